#!/usr/bin/env python3
"""Summarize an application log: counts per level and the most frequent error signatures.

A "signature" is the message with volatile parts (numbers, hex ids, UUIDs, quoted values)
replaced by placeholders, so 500 timeouts against 500 different order ids collapse into one
line with a count. Continuation lines (tracebacks, wrapped JSON) belong to the entry above.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterator

ENTRY = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+"
    r"\[?(?P<level>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|FATAL)\]?\s+"
    r"(?:\[(?P<component>[^\]]+)\]\s+)?(?P<msg>.*)$"
)
LEVEL_ALIASES = {"WARNING": "WARN", "ERR": "ERROR", "CRITICAL": "FATAL"}
LEVEL_ORDER = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "FATAL"]
VOLATILE = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
]


def signature(message: str) -> str:
    for pattern, placeholder in VOLATILE:
        message = pattern.sub(placeholder, message)
    return message


def read_lines(path: str) -> Iterator[str]:
    """Stream lines from a file or stdin ('-') without loading the whole log."""
    if path == "-":
        yield from sys.stdin
    else:
        with open(path, encoding="utf-8", errors="replace") as fh:
            yield from fh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="log file ('-' for stdin)")
    parser.add_argument("--top", type=int, default=5, help="how many error signatures to show")
    parser.add_argument("--min-level", default="ERROR", help="lowest level counted as a problem")
    args = parser.parse_args()

    min_level = LEVEL_ALIASES.get(args.min_level.upper(), args.min_level.upper())
    if min_level not in LEVEL_ORDER:
        parser.error(f"--min-level must be one of {', '.join(LEVEL_ORDER)}")
    threshold = LEVEL_ORDER.index(min_level)
    levels: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    first = last = None
    unparsed = continuation = 0
    current_is_entry = False
    for line in read_lines(args.path):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        m = ENTRY.match(line)
        if not m:
            if current_is_entry:
                continuation += 1
            else:
                unparsed += 1
            continue
        current_is_entry = True
        level = LEVEL_ALIASES.get(m["level"], m["level"])
        levels[level] += 1
        first = first or m["ts"]
        last = m["ts"]
        if LEVEL_ORDER.index(level) >= threshold:
            component = f"[{m['component']}] " if m["component"] else ""
            problems[f"{level} {component}{signature(m['msg'])}"] += 1

    total = sum(levels.values())
    print(f"entries: {total} ({first} .. {last})" if total else "entries: 0")
    print("levels: " + ", ".join(f"{lvl}={levels[lvl]}" for lvl in LEVEL_ORDER if levels[lvl]))
    print(f"continuation lines: {continuation}, unparsed lines: {unparsed}")
    print(f"top {args.top} problem signatures:")
    for sig, count in sorted(problems.items(), key=lambda kv: (-kv[1], kv[0]))[: args.top]:
        print(f"  {count:>4}  {sig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
