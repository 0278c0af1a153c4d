#!/usr/bin/env python3
"""test_docs.py: the man pages and README's Metrics section, against the
quota catalog and against the options the programs accept.

What it shows:
- each man page that was built has its placeholders filled in, and
  renders with `man -l` at 80 columns with no groff or tbl warning (every
  warning enabled);
- every catalog row is in each page, as a reader sees it: in
  collectd-ecoflow(5) its TYPE-INSTANCE (or that it is text) beside its
  quota; in ecoflow-telegraf(1) each of its fields, under its measurement,
  beside its quota and tags; in ecoflow-sim(1) its quota beside its unit.
  The rows come from `ef_catalog_doc rows`, which lists as many as
  `ecoflow-telegraf --list-metrics` and the same quotas;
- every option and environment variable of `ecoflow-telegraf --help` and
  `ecoflow-sim --help`, and every option the collectd plugin accepts (the
  `known:' list the plugin itself prints, in collectd, for an unknown
  option in each block), has an entry in its page; each plugin option that
  is not a block says its default, or that it is required;
- README.md's generated Metrics section is what the catalog gives now.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from checks import check, clean_up, summary  # noqa: E402

DOC = os.path.join(TOP_BUILDDIR, "src", "tools", "ef_catalog_doc")
TELEGRAF = os.path.join(TOP_BUILDDIR, "src", "ecoflow-telegraf")
SIM = os.path.join(TOP_BUILDDIR, "src", "ecoflow-sim")
PLUGIN = os.path.join(TOP_BUILDDIR, "src", ".libs", "ecoflow.so")
COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
PAGES = {name: os.path.join(TOP_BUILDDIR, "man", name) for name in
         ("collectd-ecoflow.5", "ecoflow-telegraf.1", "ecoflow-sim.1")}
README = os.path.join(TOP_SRCDIR, "README.md")
README_BEGIN = ("<!-- BEGIN metrics: generated from src/core/ef_catalog.def"
                " by make update-readme -->")
README_END = "<!-- END metrics -->"
# man's layout: section text and .TP tags at 7 columns, .SS headings at 3.
TAG_INDENT = 7
HEADING = re.compile(r"^   (\S.*)$")


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          **kwargs)


def render(page, width):
    """The page as man shows it, and what groff said on stderr."""
    env = dict(os.environ, MANWIDTH=str(width), LC_ALL="C.UTF-8",
               MAN_KEEP_FORMATTING="")
    out = run(["man", "--warnings=w", "-l", page], env=env)
    return out.returncode, out.stdout, out.stderr


def sections(text):
    """{subsection heading: [its lines]} of a rendered page."""
    found, current = {}, None
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading and not line.startswith(" " * 4):
            current = heading.group(1).strip()
            found.setdefault(current, [])
        elif current is not None:
            found[current].append(line)
    return found


def entries(text):
    """{tag line: body} of a rendered page's .TP entries."""
    found, tag = {}, None
    for line in text.splitlines():
        if (len(line) > TAG_INDENT and line[:TAG_INDENT].isspace()
                and not line[TAG_INDENT].isspace()):
            tag = line.strip()
            found[tag] = ""
        elif tag is not None and line.startswith(" " * (TAG_INDENT + 1)):
            found[tag] += " " + line.strip()
        elif line and not line[0].isspace():
            tag = None
    return found


def has_entry(found, name):
    return any(tag == name or tag.startswith(name + " ") for tag in found)


def catalog_rows():
    out = run([DOC, "rows"])
    rows = []
    for line in out.stdout.splitlines():
        pattern, family, unit, collectd, measurement, tags, fields = \
            line.split("\t")
        rows.append({"pattern": pattern, "family": family, "unit": unit,
                     "collectd": collectd, "measurement": measurement,
                     "tags": tags, "fields": fields.split(",")})
    return out.returncode, rows


def row_line(lines, first, *tokens):
    """Whether a line of a table starts with first and has the tokens."""
    for line in lines:
        words = line.split()
        if words and words[0] == first and all(t in words for t in tokens):
            return True
    return False


def check_catalog_in_pages(rows):
    wide = {}
    for name, page in PAGES.items():
        if os.path.exists(page):
            wide[name] = render(page, 250)[1]
    if "collectd-ecoflow.5" in wide:
        lines = wide["collectd-ecoflow.5"].splitlines()
        missing = [r["pattern"] for r in rows if not row_line(
            lines, r["collectd"] if r["collectd"] != "-" else "\u2014",
            r["pattern"] + ":")]
        check("collectd-ecoflow(5) lists every catalog row: TYPE-INSTANCE "
              "(or text) beside its quota", not missing, ", ".join(missing))
    if "ecoflow-telegraf.1" in wide:
        by_measurement = sections(wide["ecoflow-telegraf.1"])
        missing = []
        for r in rows:
            lines = by_measurement.get(r["measurement"], [])
            tags = () if r["tags"] == "-" else (r["tags"],)
            for field in r["fields"]:
                if not row_line(lines, field, r["pattern"] + ":", *tags):
                    missing.append("%s %s" % (r["measurement"], field))
        check("ecoflow-telegraf(1) lists every catalog row's fields under "
              "their measurement, beside quota and tags", not missing,
              ", ".join(missing))
    if "ecoflow-sim.1" in wide:
        lines = wide["ecoflow-sim.1"].splitlines()
        missing = [r["pattern"] for r in rows if not row_line(
            lines, r["pattern"], *(() if r["unit"] == "-" else (r["unit"],)))]
        check("ecoflow-sim(1) lists every catalog row's quota and unit",
              not missing, ", ".join(missing))


def help_options(program):
    """The --options and ECOFLOW_ variables a program's --help lists."""
    text = run([program, "--help"]).stdout
    options, variables = set(), set()
    for line in text.splitlines():
        if line.startswith("  --"):
            options.update(re.findall(r"--[a-z][a-z-]*", line.split("  ")[1]))
        elif re.match(r"^  ECOFLOW_", line):
            variables.add(line.split()[0])
    return options, variables


def check_program_options(name, program):
    page = PAGES[name]
    if not (os.path.exists(page) and os.path.exists(program)):
        return
    found = entries(render(page, 80)[1])
    options, variables = help_options(program)
    check("%s --help lists options (the test reads them)" % name,
          len(options) > 5, str(options))
    missing = sorted(o for o in options if not has_entry(found, o))
    check("%s: every option of --help has an entry" % name, not missing,
          ", ".join(missing))
    missing = sorted(v for v in variables if not has_entry(found, v))
    check("%s: every environment variable of --help has an entry" % name,
          not missing, ", ".join(missing))


# An unknown option in each block the plugin parses: it answers with the
# options it knows there.
PLUGIN_BLOCKS = {
    "account": "NoSuchOption 1\n<Device \"SN1\">\n</Device>",
    "device": "<Device \"SN1\">\nNoSuchOption 1\n</Device>",
    "report": "<Device \"SN1\">\n<Report \"X\">\nNoSuchOption 1\n</Report>\n"
              "</Device>",
}


def plugin_known_options(work):
    known = {}
    shutil.copy(PLUGIN, os.path.join(work, "ecoflow.so"))
    for block, body in PLUGIN_BLOCKS.items():
        log = os.path.join(work, block + ".log")
        conf = os.path.join(work, block + ".conf")
        with open(conf, "w") as f:
            f.write(f"""Hostname "doc"
FQDNLookup false
BaseDir "{work}"
PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{log}"
</Plugin>
PluginDir "{work}"
LoadPlugin ecoflow
<Plugin ecoflow>
AccessKey "doc"
SecretKey "doc"
{body}
</Plugin>
""")
        run([COLLECTD, "-T", "-C", conf])
        text = open(log).read() if os.path.exists(log) else ""
        said = re.search(r"unknown option `NoSuchOption'.*?\(known: ([^)]*)\)",
                         text)
        known[block] = [o.strip() for o in said.group(1).split(",")] \
            if said else []
    return known


def check_plugin_options(work):
    page = PAGES["collectd-ecoflow.5"]
    if not (os.path.exists(page) and os.path.exists(PLUGIN)
            and os.path.exists(COLLECTD)):
        return
    found = entries(render(page, 80)[1])
    known = plugin_known_options(work)
    for block, options in known.items():
        check("the plugin names the options it knows in a %s block" % block,
              len(options) >= 2, str(options))
        missing = sorted(o for o in options
                         if not has_entry(found, o.rstrip(">")))
        check("collectd-ecoflow(5): every %s option the plugin knows has an "
              "entry" % block, not missing, ", ".join(missing))
        silent = sorted(
            o for o in options if not o.startswith("<") and not any(
                re.search(r"Default:|Required", body)
                for tag, body in found.items()
                if tag == o or tag.startswith(o + " ")))
        check("collectd-ecoflow(5): every %s option says its default (or "
              "that it is required)" % block, not silent, ", ".join(silent))


def check_readme():
    text = open(README).read()
    generated = run([DOC, "markdown"]).stdout
    begin, end = text.find(README_BEGIN), text.find(README_END)
    check("README.md has the generated Metrics section's markers",
          0 <= begin < end)
    section = text[begin + len(README_BEGIN) + 1:end]
    check("README.md's Metrics section is the catalog's (else: make "
          "update-readme in the build directory)", section == generated,
          "differs from `ef_catalog_doc markdown`")


def main():
    work = tempfile.mkdtemp(prefix="ecoflow-docs.")
    status, rows = catalog_rows()
    check("ef_catalog_doc rows lists the catalog", status == 0 and rows)
    if os.path.exists(TELEGRAF):
        table = run([TELEGRAF, "--list-metrics"]).stdout.split("\n\n")[0]
        listed = [line.split()[0] for line in table.splitlines()[1:]]
        check("as many rows as ecoflow-telegraf --list-metrics, the same "
              "quotas", listed == [r["pattern"] for r in rows],
              "%d listed, %d rows" % (len(listed), len(rows)))

    built = [name for name, page in PAGES.items() if os.path.exists(page)]
    check("man pages were built", built)
    for name in built:
        left = re.findall(r"@[A-Z_]+@|@CATALOG", open(PAGES[name]).read())
        check("%s has every placeholder filled in" % name, not left,
              ", ".join(left))
        status, text, warnings = render(PAGES[name], 80)
        check("%s renders at 80 columns without a warning" % name,
              status == 0 and text and not warnings.strip(),
              warnings.strip()[:400])

    check_catalog_in_pages(rows)
    check_program_options("ecoflow-telegraf.1", TELEGRAF)
    check_program_options("ecoflow-sim.1", SIM)
    check_plugin_options(work)
    check_readme()
    clean_up(work)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
