"""Detection quality: skillctl scan vs Hermes Agent's regex skills guard, on the same skills.

Run: ``.venv/bin/python benchmarks/scan_eval.py [--hermes PATH/TO/skills_guard.py]``.

Sets: ``tests/security/cases`` (labelled malicious and benign skills written for skillctl) and
the shared corpora (real, presumed benign). skillctl counts a skill as flagged when it has a
blocking finding under its trust tier (labelled cases: the tier they declare, community when
none; corpora: team). Hermes' guard is scored two ways: verdict "dangerous" (a critical finding)
and "caution or worse" (a high finding; what it blocks for community installs).

The baseline is not shipped with skillctl. Get it from Hermes Agent's repository, e.g.
``git show HEAD:tools/skills_guard.py > /tmp/skills_guard.py`` in a clone of
NousResearch/hermes-agent (measured here: the revision matching the corpora, fork
thanhdatbui/hermes-agent @ 9a75ff0).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import CORPORA
from scan import load_hermes

from skillctl.policy import Policy
from skillctl.repo import discover_skills
from skillctl.scan import Scanner, scan_tree
from skillctl.scan.rules import load_rules

CASES = Path(__file__).resolve().parents[1] / "tests" / "security" / "cases"


def ours(folders: list[Path], default_trust: str) -> tuple[dict[Path, bool], float]:
    scanner = Scanner(rules=load_rules(), policy=Policy(default_trust=default_trust))
    t0 = time.perf_counter()
    results = scan_tree(folders, scanner=scanner)
    return {r.folder: bool(r.blocking) for r in results}, time.perf_counter() - t0


def theirs(hermes, folders: list[Path]) -> tuple[dict[Path, str], float]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    verdicts = {f: hermes.scan_skill(f, source="community").verdict for f in folders}
    return verdicts, time.perf_counter() - t0


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.1%}" if whole else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hermes", default=None, help="path to Hermes Agent's tools/skills_guard.py")
    args = ap.parse_args()
    hermes = load_hermes(args.hermes)
    sets = {
        "labelled malicious": (discover_skills(CASES / "malicious"), "community", True),
        "labelled benign": (discover_skills(CASES / "benign"), "community", False),
    }
    if CORPORA.is_dir():
        for corpus in sorted(p for p in CORPORA.iterdir() if p.is_dir()):
            sets[f"corpora/{corpus.name}"] = (discover_skills(corpus), "team", False)
        sets["corpora (all)"] = (discover_skills(CORPORA), "team", False)
    for label, (folders, trust, malicious) in sets.items():
        flagged, secs = ours(folders, trust)
        n, hits = len(folders), sum(flagged.values())
        what = "recall" if malicious else "flagged (false positives)"
        print(f"{label} ({n} skills)")
        print(f"  skillctl scan        {what}: {pct(hits, n)}   {secs / n * 1000:6.1f} ms/skill")
        if malicious:
            print("    missed: " + (", ".join(sorted(f.name for f, v in flagged.items() if not v)) or "none"))
        if hermes is not None:
            verdicts, hsecs = theirs(hermes, folders)
            dangerous = sum(v == "dangerous" for v in verdicts.values())
            caution = sum(v != "safe" for v in verdicts.values())
            print(f"  Hermes dangerous     {what}: {pct(dangerous, n)}   {hsecs / n * 1000:6.1f} ms/skill")
            print(f"  Hermes caution+      {what}: {pct(caution, n)}")
            if malicious:
                print("    missed (caution+): "
                      + (", ".join(sorted(f.name for f, v in verdicts.items() if v == "safe")) or "none"))


if __name__ == "__main__":
    main()
