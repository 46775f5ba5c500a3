"""Every skillctl finding on every measurement set, to prove a speed-up changes no verdict.

Run: ``.venv/bin/python benchmarks/scan_findings.py dump OUT.json [--community DIR ...]``, then
``.venv/bin/python benchmarks/scan_findings.py diff BEFORE.json AFTER.json``.

``dump`` scans the same sets as ``benchmarks/scan_eval.py`` (legacy, dev, hold-out, the curated
corpora, and each community directory named, whole) with the same scanner set-up, and writes
each finding as ``[path, line, rule id, severity, blocking]`` per skill, paths relative to the
set. ``diff`` prints every finding that differs and exits 1 if any does. A performance change
is committed only with an empty diff (or with each difference explained).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_eval import COMMUNITY, build_sets, make_scanner

from skillctl.repo import discover_skills
from skillctl.scan import scan_tree

Dump = dict[str, dict[str, list[list[object]]]]


def dump(communities: list[Path]) -> tuple[Dump, dict[str, float]]:
    tmp = Path(tempfile.mkdtemp(prefix="scan-findings-"))
    sets = {label: (folders, trust) for label, (folders, trust, _m) in build_sets(tmp, [], 0).items()}
    for directory in communities:
        if directory.is_dir():
            sets[f"community:{directory.name}"] = (discover_skills(directory), "community")
    out: Dump = {}
    times: dict[str, float] = {}
    for label, (folders, trust) in sets.items():
        scanner = make_scanner(folders, trust)
        root = scanner.root
        t0 = time.perf_counter()
        results = scan_tree(folders, scanner=scanner)
        times[label] = time.perf_counter() - t0
        out[label] = {
            (r.folder.relative_to(root).as_posix() if root else str(r.folder)):
                [[f.path, f.line or 0, f.rule_id, f.severity, f.blocking] for f in r.findings]
            for r in results
        }
    return out, times


def diff(before: Dump, after: Dump) -> list[str]:
    lines = []
    for label in sorted(set(before) | set(after)):
        a, b = before.get(label, {}), after.get(label, {})
        for skill in sorted(set(a) | set(b)):
            old = {tuple(x) for x in a.get(skill, [])}
            new = {tuple(x) for x in b.get(skill, [])}
            lines += [f"{label}: {skill}: - {list(x)}" for x in sorted(old - new, key=str)]
            lines += [f"{label}: {skill}: + {list(x)}" for x in sorted(new - old, key=str)]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--community", type=Path, action="append", default=None,
                   help=f"community corpus directory, repeatable (default {COMMUNITY})")
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        data, times = dump(args.community if args.community is not None else [COMMUNITY])
        args.out.write_text(json.dumps(data, sort_keys=True))
        for label, secs in times.items():
            n = len(data[label])
            print(f"{label:<32}{n:>6} skills {sum(map(len, data[label].values())):>7} findings "
                  f"{secs:7.2f} s {secs / max(n, 1) * 1000:6.2f} ms/skill")
        return
    lines = diff(json.loads(args.before.read_text()), json.loads(args.after.read_text()))
    print("\n".join(lines) if lines else "no difference")
    raise SystemExit(1 if lines else 0)


if __name__ == "__main__":
    main()
