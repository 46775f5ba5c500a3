"""How many of skillctl's blocks on ClawHub deserve a look, by the committed blind judgements.

Run: ``.venv/bin/python benchmarks/scan_judged.py [SET ...]`` (default: clawhub clawhub2 clawhub3;
materialize each first with ``benchmarks/community/materialize.py --manifest
benchmarks/community/SET-manifest.json --out ~/.cache/skillctl-bench/community-SET``).

Issue #12's target for real community skills is at most 3% blocked, of which at least 80%
deserve a human look. The judgements in ``benchmarks/community/judged/`` were made by agents
that did not write the rules, each on the blocks of the rules of its day. This script scans
each set whole with today's rules and the community tier, joins the blocks with the judged
skills, and prints, per set:

- the block rate and the share of judged blocks that deserve a look (the baseline: the
  target's 80%);
- the same if the community tier blocked only from ``high`` or only at ``critical`` (the
  policy's ``block_at``), as the judged blocks' highest blocking severity says. That answers
  whether a stricter threshold alone could reach the target: if blocking only on critical
  findings is still far below 80%, no severity policy can;
- how many of today's blocks no judge has seen (outside a sampled set's sample, or blocked
  only since the judged rules; they are left out of the shares, never guessed).

A judgement is about the skill, not the rule, so it stays valid for a block made by another
rule. ``clawhub3`` is a seeded sample of its blocks; its shares are the sample's and the block
rates scale the sample's proportions to the set.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scan_eval import CACHE, make_scanner  # noqa: E402

from skillctl.repo import discover_skills  # noqa: E402
from skillctl.scan import scan_tree  # noqa: E402
from skillctl.vocab import SEVERITIES  # noqa: E402

JUDGED = HERE / "community" / "judged"
FLOORS = ("medium", "high", "critical")
TARGET = 0.80


def judgements(name: str) -> dict[str, bool]:
    """Skill path -> deserves a look, from the set's judged file (the blind judge's call)."""
    data = json.loads((JUDGED / f"{name}.json").read_text(encoding="utf-8"))
    out = {}
    for row in data.get("blocks") or data.get("sample") or []:
        verdict = row.get("judge") or row.get("blind_judge")  # clawhub.json has two judges: the blind one
        out[row["skill"]] = str(verdict).upper() == "LOOK"
    return out


@dataclass
class Measured:
    name: str
    skills: int
    blocked: int
    judged: int
    rows: list[tuple[str, int, int, float, float]]  # floor, judged blocks kept, looks, share, est. rate


def measure(name: str) -> Measured | None:
    base = CACHE / f"community-{name}"
    folders = discover_skills(base) if base.is_dir() else []
    if not folders:
        print(f"{name}: not materialized at {base}; skipped")
        return None
    judged = judgements(name)
    results = scan_tree(folders, scanner=make_scanner(folders, "community"))
    highest: dict[str, int] = {}
    for r in results:
        blocking = [SEVERITIES.index(f.severity) for f in r.findings if f.blocking]
        if blocking:
            highest[r.folder.relative_to(base).as_posix()] = max(blocking)
    seen = {k: v for k, v in highest.items() if k in judged}
    rows = []
    for floor in FLOORS:
        kept = [k for k, sev in seen.items() if sev >= SEVERITIES.index(floor)]
        looks = sum(judged[k] for k in kept)
        rate = len(highest) / len(folders) * (len(kept) / len(seen) if seen else 0.0)
        rows.append((floor, len(kept), looks, looks / len(kept) if kept else 0.0, rate))
    return Measured(name, len(folders), len(highest), len(seen), rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="*", default=["clawhub", "clawhub2", "clawhub3"])
    args = ap.parse_args()
    for name in args.sets:
        m = measure(name)
        if m is None:
            continue
        print(f"\n{name}: {m.blocked}/{m.skills} blocked ({m.blocked / m.skills:.2%}); {m.judged} of the blocks "
              f"judged, {m.blocked - m.judged} not (outside a judged sample, or blocked only "
              f"since the judged rules; left out)")
        print(f"  {'community tier blocks from':<28}{'judged blocks':>14}{'looks':>7}{'share':>8}"
              f"{'vs 80% target':>15}{'est. block rate':>17}")
        for floor, kept, looks, share, rate in m.rows:
            print(f"  {floor:<28}{kept:>14}{looks:>7}{share:>8.0%}{share / TARGET:>14.2f}x{rate:>17.2%}")


if __name__ == "__main__":
    main()
