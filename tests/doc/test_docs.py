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
- the options, one source: `ef_options' prints them from the settings
  table both parsers look names up in (src/core/ef_settings.def: each
  block's options of the collectd plugin, which check_collectd_config
  also holds its parser to; ecoflow-telegraf's flags, file keys and
  environment variables). Each of them is in
  collectd-ecoflow(5) or ecoflow-telegraf(1) (an entry; a plugin option
  that is not a block says its default, or that it is required), in its
  example configuration (contrib/collectd.conf: each option, commented
  out or not; contrib/telegraf.conf: each file key in the --config file)
  and in README.md; and the reverse: an option any of them documents
  (an entry of a page's OPTIONS or ENVIRONMENT, a line of an example
  configuration, an option in README's configuration examples and
  tables, a --flag anywhere in README) is one the code knows (or, for
  README, an option of ecoflow-sim, configure or bench.py);
- every option and environment variable of `ecoflow-sim --help` has an
  entry in its page;
- both programs say --version in one format: PROGRAM (PACKAGE) VERSION;
- README.md's generated Metrics section is what the catalog gives now.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from checks import check, summary  # noqa: E402

DOC = os.path.join(TOP_BUILDDIR, "src", "tools", "ef_catalog_doc")
OPTIONS = os.path.join(TOP_BUILDDIR, "src", "tools", "ef_options")
CONTRIB = os.path.join(TOP_SRCDIR, "contrib")
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


# ---- the options, from the code's own tables ------------------------------


class Options:
    """What `ef_options' prints: the collectd plugin's options per block,
    ecoflow-telegraf's settings."""

    def __init__(self):
        out = run([OPTIONS])
        self.status = out.returncode
        self.collectd = {}  # block: [names, "<Device>" for a block]
        self.telegraf = []  # (key, env or None, {"argv", "file", "env"})
        for line in out.stdout.splitlines():
            words = line.split()
            if words[0] == "collectd":
                self.collectd.setdefault(words[1], []).append(words[2])
            elif words[0] == "telegraf":
                self.telegraf.append((words[1], None if words[2] == "-"
                                      else words[2], set(words[3].split(","))))

    def collectd_names(self):
        """Every option and block of the plugin, blocks as "<Device>"."""
        return {n for names in self.collectd.values() for n in names}

    def flags(self):
        return {"--" + key.replace("_", "-") for key, _, origins
                in self.telegraf if "argv" in origins}

    def file_keys(self):
        return {key for key, _, origins in self.telegraf if "file" in origins}

    def variables(self):
        return {env: key for key, env, _ in self.telegraf if env}


def section(text, title):
    """The lines of a rendered page's top-level section."""
    lines, inside = [], False
    for line in text.splitlines():
        if line and not line[0].isspace():
            inside = line.strip() == title
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def tp_tags(page, title):
    """The tags of the .TP entries of section title, in a page's roff
    source, by their option: ".BI Shard " K/N"" -> "Shard",
    ".BI "<Device " SERIAL >" -> "<Device>", ".B \\-\\-check" ->
    "--check", ".BR ECOFLOW_ENDPOINT " (" endpoint )" ->
    "ECOFLOW_ENDPOINT (endpoint)"."""
    tags, inside, after_tp = [], False, False
    for line in open(page):
        line = line.rstrip("\n")
        if line.startswith(".SH"):
            inside = line[3:].strip().strip('"') == title
        elif inside and line.startswith(".TP"):
            after_tp = True
            continue
        elif inside and after_tp:
            text = re.sub(r"\\f[BIRP]", "", line.replace("\\-", "-"))
            macro = re.match(r"^\.([A-Z]+) ?", text)
            words = shlex.split(text[macro.end():] if macro else text)
            # .BI, .BR, ...: alternating fonts, no blank between words.
            joint = "" if macro and len(macro.group(1)) == 2 else " "
            tags.append(joint.join(words))
        after_tp = False
    return tags


def option_name(tag):
    """An entry's option: "Shard K/N" -> "Shard", "<Device SERIAL>" ->
    "<Device>", "--mqtt With --execd, ..." -> "--mqtt"."""
    word = tag.split()[0]
    return word + ">" if word.startswith("<") else word


def check_both_ways(what, known, documented, missing_ok=()):
    missing = sorted(set(known) - set(documented) - set(missing_ok))
    check("%s: every option the code knows is there" % what, not missing,
          ", ".join(missing))
    unknown = sorted(set(documented) - set(known))
    check("%s: every option it names is one the code knows" % what,
          not unknown, ", ".join(unknown))


def check_collectd_page(options):
    page = PAGES["collectd-ecoflow.5"]
    if not (os.path.exists(page) and options.collectd):
        return
    found = entries(section(render(page, 80)[1], "OPTIONS"))
    check_both_ways("collectd-ecoflow(5) OPTIONS", options.collectd_names(),
                    {option_name(tag) for tag in tp_tags(page, "OPTIONS")})
    for block, names in sorted(options.collectd.items()):
        silent = sorted(
            o for o in names if not o.startswith("<") and not any(
                re.search(r"Default:|Required", body)
                for tag, body in found.items() if option_name(tag) == o))
        check("collectd-ecoflow(5): every %s option says its default (or "
              "that it is required)" % block, not silent, ", ".join(silent))


def check_telegraf_page(options):
    page = PAGES["ecoflow-telegraf.1"]
    if not (os.path.exists(page) and options.telegraf):
        return
    text = render(page, 80)[1]
    check_both_ways("ecoflow-telegraf(1) OPTIONS", options.flags(),
                    {option_name(tag) for tag in tp_tags(page, "OPTIONS")})
    named = {}
    for tag in tp_tags(page, "ENVIRONMENT"):
        variable = re.match(r"(ECOFLOW_\w+)(?: \((\w+)\))?", tag)
        if variable:
            named[variable.group(1)] = variable.group(2)
    settings = options.variables()
    check_both_ways("ecoflow-telegraf(1) ENVIRONMENT", settings,
                    [v for v in named if not v.startswith("ECOFLOW_TEST_")])
    wrong = sorted(v for v, key in named.items()
                   if v in settings and key != settings[v])
    check("ecoflow-telegraf(1) ENVIRONMENT: each variable names its file "
          "key", not wrong, ", ".join(wrong))
    # The page says which options cannot be file keys.
    rule = re.search(r"Each option but (.*?) can also be given as key = "
                     r"value", " ".join(section(text, "OPTIONS").split()))
    said = set(re.findall(r"--[a-z-]+", rule.group(1))) if rule else set()
    argv_only = {"--" + key.replace("_", "-") for key, _, origins
                 in options.telegraf if origins == {"argv"}}
    check("ecoflow-telegraf(1): the options it says cannot be file keys "
          "are the command line's only", said == argv_only,
          "says %s; the table: %s" % (sorted(said), sorted(argv_only)))


def config_lines(path):
    """The lines of an example configuration that are configuration,
    commented out or not ("#Timeout 10", "#  <Account ...>"), not prose
    ("# The key pair ...": one blank after the '#')."""
    lines = []
    for line in open(path):
        text = line.strip()
        if text.startswith("#"):
            rest = text[1:]
            if rest.startswith(" ") and not rest.startswith("  "):
                continue
            text = rest.strip()
        if text:
            lines.append(text)
    return lines


def check_collectd_example(options):
    path = os.path.join(CONTRIB, "collectd.conf")
    if not options.collectd:
        return
    named = set()
    for line in config_lines(path):
        word = re.match(r"(<?)/?([A-Z][A-Za-z]*)(?=[\s>]|$)", line)
        if word and word.group(2) not in ("LoadPlugin", "Plugin"):
            named.add("<%s>" % word.group(2) if word.group(1)
                      else word.group(2))
    check_both_ways("contrib/collectd.conf", options.collectd_names(), named)


def check_telegraf_example(options):
    path = os.path.join(CONTRIB, "telegraf.conf")
    if not options.telegraf:
        return
    text = open(path).read()
    config_file = text[text.index("# --- The --config file"):]
    keys = set(re.findall(r"^#\s+(?:#\s+)?([a-z_]+) = ", config_file, re.M))
    check_both_ways("contrib/telegraf.conf, its --config file",
                    options.file_keys(), keys)
    flags = flags_in(text.splitlines())
    unknown = sorted(flags - options.flags())
    check("contrib/telegraf.conf: every --flag it names is one "
          "ecoflow-telegraf knows", flags and not unknown, ", ".join(unknown))


def flags_in(pieces):
    """The --flags of lines or spans of text; what follows a '|' is
    another program's (curl's --data-binary)."""
    flags = set()
    for piece in pieces:
        flags |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*",
                                piece.split("|")[0]))
    return flags


def other_programs_flags():
    """The --flags of what else README documents: ecoflow-sim, configure,
    bench.py."""
    flags = set()
    for argv in ([SIM, "--help"],
                 ["sh", os.path.join(TOP_SRCDIR, "configure"), "--help"],
                 ["python3", os.path.join(TOP_SRCDIR, "bench", "bench.py"),
                  "--help"]):
        if os.path.exists(argv[0] if argv[0] == SIM else argv[1]):
            flags |= set(re.findall(r"--[a-z][a-z-]*", run(argv).stdout))
    return flags


def readme_collectd_options(text):
    """The collectd options README documents as such: the lines of its
    <Plugin ecoflow> examples, the first column of its tables headed
    "collectd"."""
    named = set()
    pieces = re.findall(r"^ {4}<Plugin ecoflow>\n(.*?)^ {4}</Plugin>", text,
                        re.M | re.S)
    lines = [line for piece in pieces for line in piece.splitlines()]
    for table in re.findall(r"^\| collectd[^\n]*\n\|[-|]+\n((?:\|.*\n)+)",
                            text, re.M):
        for row in table.splitlines():
            lines += re.findall(r"`([^`]+)`", row.split("|")[1])
    for line in lines:
        word = re.match(r"\s*#?\s*(<?)/?([A-Z][A-Za-z]*)(?=[\s>]|$)", line)
        if word and word.group(2) not in ("LoadPlugin", "Plugin"):
            named.add("<%s>" % word.group(2) if word.group(1)
                      else word.group(2))
    return named


def check_readme_options(options):
    text = open(README).read()
    pieces = re.findall(r"`([^`\n]+)`", text) + [
        line for line in text.splitlines() if line.startswith("    ")]
    if options.collectd:
        missing = sorted(
            name for name in options.collectd_names()
            if not any(re.search(r"(?<![\w-])%s(?![\w-])"
                                 % re.escape(name.strip("<>")), piece)
                       for piece in pieces))
        check("README.md: every collectd option is there (in code)",
              not missing, ", ".join(missing))
        unknown = sorted(readme_collectd_options(text)
                         - options.collectd_names())
        named = readme_collectd_options(text)
        check("README.md: every collectd option its examples and tables "
              "name is one the plugin knows", len(named) > 10
              and not unknown, ", ".join(unknown) or str(named))
    if options.telegraf:
        flags = flags_in(pieces)
        missing = sorted(options.flags() - flags)
        check("README.md: every ecoflow-telegraf option is there", not missing,
              ", ".join(missing))
        unknown = sorted(flags - options.flags() - other_programs_flags())
        check("README.md: every --flag it names is one ecoflow-telegraf, "
              "ecoflow-sim, configure or bench.py knows", not unknown,
              ", ".join(unknown))


def check_options():
    if not os.path.exists(OPTIONS):
        check("ef_options was built", False, OPTIONS)
        return
    options = Options()
    check("ef_options prints the options of the front ends built",
          options.status == 0
          and (options.collectd or not os.path.exists(PLUGIN))
          and (options.telegraf or not os.path.exists(TELEGRAF))
          and (options.collectd or options.telegraf))
    check_collectd_page(options)
    check_telegraf_page(options)
    check_collectd_example(options)
    check_telegraf_example(options)
    check_readme_options(options)


def check_versions():
    """Both programs say --version the same way."""
    said = {}
    for name, program in (("ecoflow-telegraf", TELEGRAF),
                          ("ecoflow-sim", SIM)):
        if os.path.exists(program):
            said[name] = run([program, "--version"]).stdout
    formats = {name: re.fullmatch(r"%s \(collectd-ecoflow\) (\S+)\n"
                                  % re.escape(name), text)
               for name, text in said.items()}
    check("--version: PROGRAM (collectd-ecoflow) VERSION, one version",
          said and all(formats.values()) and len(
              {m.group(1) for m in formats.values()}) == 1, str(said))


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
    check_program_options("ecoflow-sim.1", SIM)
    check_options()
    check_versions()
    check_readme()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
