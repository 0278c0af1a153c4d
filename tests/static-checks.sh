#!/usr/bin/env bash
# The habits that catch what reading misses: every C file in the committed
# format (.clang-format), and clang's static analyzer (scan-build) clean
# over a full build with warnings as errors. Prints one line each and exits
# 1 when either finds something.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$top/build/static-checks}
status=0

cd "$top"
files=$(find src tests bench -name '*.[ch]' -not -path '*/corpus/*' | sort)
if clang-format --dry-run --Werror $files 2>"$work.format.log"; then
  echo "clang-format: $(echo "$files" | wc -l) files formatted"
else
  echo "clang-format: files differ from .clang-format (clang-format -i them):"
  grep -o '^[^:]*\.[ch]' "$work.format.log" | sort -u
  status=1
fi

rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
if scan-build "$top/configure" --enable-werror >configure.log 2>&1 &&
   scan-build --status-bugs -o "$work/report" make -j"${JOBS:-2}" \
     >scan-build.log 2>&1; then
  echo "scan-build: $(grep -c 'CC ' scan-build.log) files analyzed, no bugs"
  cd "$top" && rm -rf "$work"
else
  grep -E 'warning:|bugs? found|error' "$work/scan-build.log" | head -n 40
  echo "scan-build: see $work/report"
  status=1
fi
exit $status
