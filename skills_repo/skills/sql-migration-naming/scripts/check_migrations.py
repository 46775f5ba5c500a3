#!/usr/bin/env python3
"""Check a folder of Flyway-style SQL migrations for naming and ordering mistakes.

Names: V<version>__<description>.sql (versioned), U<version>__<description>.sql (undo),
R__<description>.sql (repeatable). Versions are dot- or underscore-separated integers and
compare numerically, so V1_10 > V1_9 and V001 == V1 (a duplicate, which Flyway refuses).
Also prints the next free version with --next "description".
Exit status 1 on errors; gaps and style issues are warnings.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

NAME = re.compile(r"^(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>[^.]+)\.sql$|^R__(?P<rdesc>[^.]+)\.sql$")
DESCRIPTION = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


def version_key(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # 1.0 == 1
    return tuple(parts)


def describe(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--next", metavar="DESCRIPTION", help="print the next versioned filename")
    args = parser.parse_args()

    problems: list[tuple[str, str]] = []
    versions: dict[tuple[int, ...], str] = {}
    claimed = [0]  # major versions claimed by any V-file, even a misnamed one
    for path in sorted(Path(args.folder).iterdir()):
        if path.is_dir() or path.name.startswith("."):
            continue
        loose = re.match(r"^V(\d+)", path.name)
        if loose:
            claimed.append(int(loose.group(1)))
        m = NAME.match(path.name)
        if not m:
            hint = ""
            if re.match(r"^[VU]\d", path.name) and "__" not in path.name:
                hint = " (separator between version and description is two underscores)"
            elif path.suffix.lower() == ".sql" and path.suffix != ".sql":
                hint = " (extension must be lower-case .sql)"
            problems.append(("error", f"{path.name}: not V<version>__<description>.sql{hint}"))
            continue
        desc = m["desc"] or m["rdesc"]
        if not DESCRIPTION.match(desc):
            problems.append(("warning", f"{path.name}: description should be snake_case, e.g. {describe(desc)}"))
        if m["prefix"] == "V":
            key = version_key(m["version"])
            if key in versions:
                shown = ".".join(map(str, key))
                problems.append(("error", f"{path.name}: version {shown} already used by {versions[key]}"))
            else:
                versions[key] = path.name
        if path.stat().st_size == 0:
            problems.append(("warning", f"{path.name}: file is empty"))

    ordered = sorted(versions)
    majors = sorted({k[0] for k in ordered if len(k) == 1})
    for a, b in itertools.pairwise(majors):
        if b - a > 1:
            problems.append(("warning", f"gap: no migration between V{a} and V{b}"))

    for severity, message in problems:
        print(f"{severity}: {message}")
    errors = sum(1 for s, _ in problems if s == "error")
    print(f"{len(versions)} versioned migration(s), latest V{'.'.join(map(str, ordered[-1])) if ordered else '-'}, "
          f"{errors} error(s), {len(problems) - errors} warning(s)")
    if args.next:
        width = max((len(re.split(r"[._]", n[1:].split("__")[0])[0]) for n in versions.values()), default=3)
        print(f"next: V{max(claimed) + 1:0{width}d}__{describe(args.next)}.sql")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
