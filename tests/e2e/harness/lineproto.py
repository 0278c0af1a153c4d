"""harness/lineproto.py: line protocol as the tests read it back from
ecoflow-telegraf, independently of the C code that writes it: a whole
line, one tag, the fields, and EcoFlow's "no reading" markers among
them."""

import re


def split_unescaped(text, separator):
    """text split at separator outside backslash escapes and quotes."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == separator and not quoted:
            parts.append(current)
            current = ""
        else:
            current += c
        i += 1
    return parts + [current]


def unescape(text):
    return re.sub(r"\\(.)", r"\1", text)


def parse(line):
    """(measurement, {tag: value}, {field: text}, timestamp) of a line."""
    series, fields, stamp = split_unescaped(line.rstrip("\n"), " ")
    measurement, *tags = split_unescaped(series, ",")
    return (unescape(measurement),
            dict(unescape(t).split("=", 1) for t in tags),
            dict(f.split("=", 1) for f in split_unescaped(fields, ",")),
            int(stamp))


def tag_of(line, key):
    """A tag's value in a line of line protocol, unescaped."""
    series = re.match(r"(?:[^\\ ]|\\.)*", line).group(0)
    match = re.search(r",%s=((?:[^\\,]|\\.)+)" % key, series)
    return match and re.sub(r"\\(.)", r"\1", match.group(1))


FIELD = re.compile(r'(?:^|,)([A-Za-z0-9_]+)=("(?:[^"\\]|\\.)*"|[^,]*)')


def fields(line):
    """{key: text} of one line-protocol line's fields (the keys the tests
    look at have no escapes)."""
    head = re.match(r"(?:[^ \\]|\\.)*", line).group(0)
    body = line[len(head) + 1:].rstrip("\n").rsplit(" ", 1)[0]
    return dict(FIELD.findall(body))


# EcoFlow's "no reading" markers and their scaled forms
# (ef_value_rules.h); none may be published.
MARKERS = {65535.0, 6553.5, 655.35, 65.535, 4294967295.0, 429496729.5,
           42949672.95, 4294967.295, -3270.0, -327.0}


def markers_in(lines):
    """"measurement key=value" of each field of lines that holds a
    marker."""
    found = []
    for line in lines:
        for key, value in fields(line).items():
            if value.startswith('"'):
                continue
            try:
                number = float(value.rstrip("i"))
            except ValueError:
                continue
            if number in MARKERS:
                found.append("%s %s=%s" % (line.split(",")[0], key, value))
    return found
