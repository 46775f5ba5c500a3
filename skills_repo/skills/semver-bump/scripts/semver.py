#!/usr/bin/env python3
"""Semantic Versioning 2.0.0 helpers: validate, bump, compare, sort, and pick the next version
from conventional-commit subjects.

Usage:
  semver.py bump VERSION {major,minor,patch,prerelease} [--pre LABEL]
  semver.py compare A B          prints  A < B | A == B | A > B
  semver.py sort < versions.txt  ascending precedence, invalid lines reported on stderr
  semver.py next VERSION < commit-subjects.txt
"""

from __future__ import annotations

import re
import sys
from functools import cmp_to_key

# The regular expression published with the SemVer 2.0.0 text, restated: no leading zeros in
# numeric parts, dot-separated pre-release and build identifiers.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
CONVENTIONAL = re.compile(r"^(?P<type>[a-z]+)(?:\([^)]*\))?(?P<bang>!)?: ")


class Version:
    def __init__(self, text: str) -> None:
        m = SEMVER.match(text.strip().removeprefix("v"))
        if not m:
            raise ValueError(f"not a semantic version: {text.strip()!r}")
        self.major, self.minor, self.patch = (int(g) for g in m.groups()[:3])
        self.pre = m.group(4).split(".") if m.group(4) else []
        self.build = m.group(5) or ""

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(self.pre)
        return text + (f"+{self.build}" if self.build else "")

    def bump(self, part: str, label: str = "rc") -> Version:
        v = Version(str(self))
        v.build = ""
        if part == "prerelease":
            if v.pre and v.pre[0] == label and len(v.pre) > 1 and v.pre[-1].isdigit():
                v.pre = [*v.pre[:-1], str(int(v.pre[-1]) + 1)]
            elif v.pre and v.pre[0] == label:
                v.pre = [*v.pre, "1"]
            else:
                # A new pre-release series targets the next patch of a final release.
                if not v.pre:
                    v.patch += 1
                v.pre = [label, "1"]
            return v
        was_pre = bool(v.pre)
        v.pre = []
        if part == "major":
            # 2.0.0-rc.1 -> 2.0.0: the pre-release already names the major being released.
            if not (was_pre and v.minor == 0 and v.patch == 0):
                v.major, v.minor, v.patch = v.major + 1, 0, 0
        elif part == "minor":
            if not (was_pre and v.patch == 0):
                v.minor, v.patch = v.minor + 1, 0
        elif part == "patch":
            if not was_pre:
                v.patch += 1
        else:
            raise ValueError(f"unknown part {part!r}")
        return v


def compare(a: Version, b: Version) -> int:
    """SemVer precedence (section 11). Build metadata never affects ordering."""
    for x, y in ((a.major, b.major), (a.minor, b.minor), (a.patch, b.patch)):
        if x != y:
            return -1 if x < y else 1
    if not a.pre or not b.pre:
        return (not a.pre) - (not b.pre)  # a release outranks any of its pre-releases
    for x, y in zip(a.pre, b.pre, strict=False):  # lengths differ; handled below
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1  # numeric identifiers sort before alphanumeric
        return -1 if x < y else 1
    return (len(a.pre) > len(b.pre)) - (len(a.pre) < len(b.pre))


def next_from_commits(current: Version, subjects: list[str]) -> tuple[Version, str]:
    rank = {"none": 0, "patch": 1, "minor": 2, "major": 3}
    level = "none"
    for subject in subjects:
        m = CONVENTIONAL.match(subject)
        if "BREAKING CHANGE:" in subject or (m and m["bang"]):
            kind = "major"
        elif m and m["type"] == "feat":
            kind = "minor"
        elif m and m["type"] in ("fix", "perf"):
            kind = "patch"
        else:
            kind = "none"
        level = max(level, kind, key=rank.__getitem__)
    if level == "none":
        return current, "no release-worthy commits"
    if current.major == 0 and level == "major":
        # 0.y.z: anything may change; by convention a breaking change bumps the minor.
        return current.bump("minor"), "major in 0.x: bumped minor"
    return current.bump(level), f"{level}: highest change found"


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["bump"] and len(argv) in (3, 5):
            label = argv[4] if len(argv) == 5 and argv[3] == "--pre" else "rc"
            print(Version(argv[1]).bump(argv[2], label))
        elif argv[:1] == ["compare"] and len(argv) == 3:
            result = compare(Version(argv[1]), Version(argv[2]))
            print(f"{argv[1]} {'<=>'[result + 1] if result else '=='} {argv[2]}")
        elif argv[:1] == ["sort"]:
            good = []
            for line in sys.stdin:
                if line.strip():
                    try:
                        good.append(Version(line))
                    except ValueError as err:
                        print(f"skipped: {err}", file=sys.stderr)
            for v in sorted(good, key=cmp_to_key(compare)):
                print(v)
        elif argv[:1] == ["next"] and len(argv) == 2:
            version, why = next_from_commits(Version(argv[1]), sys.stdin.read().splitlines())
            print(f"{version}  ({why})")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except ValueError as err:
        print(f"semver: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
