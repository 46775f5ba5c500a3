#!/usr/bin/env python3
"""Test a Python regular expression against sample lines or a table of expected outcomes.

  regex_test.py PATTERN FILE             show each line's match and captured groups
  regex_test.py --cases PATTERN FILE     FILE lines start with '+' (must match) or '-' (must not)
Options: -i (ignore case), --full (whole line must match, re.fullmatch).
Also warns about nested quantifiers like (a+)+, the usual cause of catastrophic backtracking.
Exit status 1 when a case fails, 2 when the pattern does not compile.
"""

from __future__ import annotations

import argparse
import re
import sys

NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)[+*{]")


def show(match: re.Match[str] | None) -> str:
    if match is None:
        return "no match"
    if match.groupdict():
        groups = " ".join(f"{k}={v!r}" for k, v in match.groupdict().items())
    elif match.groups():
        groups = " ".join(f"{i}={v!r}" for i, v in enumerate(match.groups(), start=1))
    else:
        groups = ""
    return f"match {match.group(0)!r}" + (f" {groups}" if groups else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pattern")
    parser.add_argument("file")
    parser.add_argument("--cases", action="store_true")
    parser.add_argument("-i", dest="ignore_case", action="store_true")
    parser.add_argument("--full", action="store_true", help="require the whole line to match")
    args = parser.parse_args()
    try:
        regex = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
    except re.error as err:
        print(f"pattern does not compile: {err}", file=sys.stderr)
        return 2
    if NESTED_QUANTIFIER.search(args.pattern):
        print("warning: nested quantifier (e.g. (a+)+) can backtrack catastrophically", file=sys.stderr)
    run = regex.fullmatch if args.full else regex.search
    failures = total = 0
    with open(args.file, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            if args.cases:
                if not line.strip() or line.startswith("#"):
                    continue
                want, text = line[0], line[2:] if line[1:2] == " " else line[1:]
                if want not in "+-":
                    print(f"line {number}: case must start with '+' or '-'", file=sys.stderr)
                    return 2
                total += 1
                got = run(text)
                if (got is not None) != (want == "+"):
                    failures += 1
                    expected = "match" if want == "+" else "no match"
                    print(f"FAIL line {number}: {text!r}: expected {expected}, got {show(got)}")
            else:
                print(f"{number}: {show(run(line))}")
    if args.cases:
        print(f"{total - failures}/{total} cases passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
