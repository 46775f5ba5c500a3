"""Detection quality and speed: skillctl scan vs Cisco's skill-scanner and Hermes' skills_guard, same sets.

Run: ``.venv/bin/python benchmarks/scan_eval.py [--sample N] [--no-peers] [--community DIR] [--fresh DIR ...]``.

Sets (see tests/security/labelled/README.md for which were tuned on):
- ``legacy``: tests/security/cases, the labelled cases the original rules were written from (tuned);
- ``dev``: tests/security/labelled/dev-*.yaml, cases written for the issue #12 rules (tuned);
- ``holdout``: tests/security/labelled/holdout-*.yaml, written before those rules and not tuned on;
- ``corpora``: the curated public collections in ../shared/corpora (benign, scanned as team skills);
- ``community``: the measurement corpus of benchmarks/community (materialize it first), benign by
  presumption, used only for the real-world block rate; the peers get a seeded sample of it;
- ``fresh`` corpora (``fresh-manifest.json`` to ``fresh8-manifest.json``) and the ClawHub snapshots
  (``clawhub-manifest.json`` to ``clawhub3-manifest.json``): further real-world sets, skillctl only,
  whole-corpus block rates (see docs/scan-measurement.md for when each was measured).

The peers are installed by this script into venvs under ``~/.cache/skillctl-bench/venvs`` (they
conflict with each other): ``cisco-ai-skill-scanner`` with its offline analyzers (static,
bytecode, pipeline, behavioral) and ``hermes-agent``'s ``tools/skills_guard``. Each peer scans
in its own process; its time excludes start-up. skillctl counts a skill as blocked when it has a
blocking finding under the tier's policy (community, or team for the curated corpora); Cisco
when it calls a skill unsafe (HIGH/CRITICAL); Hermes when it would not install it from a
community source. Every skillctl verdict is also checked alone against its verdict in the batch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "security"))
from _util import CORPORA  # noqa: E402
from labelled_sets import materialize  # noqa: E402

from skillctl.errors import SkillctlError  # noqa: E402
from skillctl.parse import read_skill  # noqa: E402
from skillctl.policy import Policy, TrustRule  # noqa: E402
from skillctl.repo import discover_skills  # noqa: E402
from skillctl.scan import Scanner, scan_tree  # noqa: E402
from skillctl.scan.rules import load_rules  # noqa: E402

CACHE = Path(os.environ.get("SKILLCTL_BENCH_CACHE", Path.home() / ".cache" / "skillctl-bench"))
COMMUNITY = Path(os.environ.get("SKILLCTL_COMMUNITY", CACHE / "community"))
FRESH = (CACHE / "community-fresh", CACHE / "community-fresh2", CACHE / "community-fresh3",
         CACHE / "community-fresh4", CACHE / "community-fresh5", CACHE / "community-fresh6",
         CACHE / "community-fresh7", CACHE / "community-fresh8",  # fresh*-manifest.json
         CACHE / "community-clawhub", CACHE / "community-clawhub2", CACHE / "community-clawhub3")  # clawhub*
PEERS = {
    "cisco": ("cisco-ai-skill-scanner==2.3.2", HERE / "peers" / "cisco_driver.py"),
    "hermes": ("hermes-agent==0.19.0", HERE / "peers" / "hermes_driver.py"),
}


def peer_python(name: str) -> Path:
    """The peer's venv interpreter, creating the venv and installing the pinned package once."""
    spec, _ = PEERS[name]
    venv = CACHE / "venvs" / name
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists() or marker.read_text() != spec:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", spec], check=True)
        marker.write_text(spec)
    return python


def run_peer(name: str, folders: list[Path]) -> tuple[dict[Path, bool | None], float]:
    _, driver = PEERS[name]
    proc = subprocess.run([str(peer_python(name)), str(driver)], input=json.dumps([str(f) for f in folders]),
                          capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {Path(k): v for k, v in data["flagged"].items()}, data["seconds"]


def make_scanner(folders: list[Path], trust: str) -> Scanner:
    """A scanner rooted at the set's common folder, vouching for each labelled case at the tier it states.

    A skill cannot grant itself a tier: the benchmark vouches for each labelled case at the tier it
    states, as a repository curating these skills would (tests/security/test_labelled.py does the same).
    """
    root = Path(os.path.commonpath([str(f) for f in folders])) if folders else None
    vouched = []
    for folder in folders:
        try:
            life = read_skill(folder).lifecycle
        except SkillctlError:
            continue
        if life is not None and life.trust and root is not None:
            vouched.append(TrustRule(folder.relative_to(root).as_posix() or ".", life.trust))
    return Scanner(rules=load_rules(), policy=Policy(default_trust=trust, rules=vouched), root=root,
                   established=frozenset())


def ours(folders: list[Path], trust: str) -> tuple[dict[Path, bool], float, list[str]]:
    """Verdicts in one batch, the time, and the skills whose verdict differs when scanned alone."""
    scanner = make_scanner(folders, trust)
    scan_tree(folders[:3], scanner=scanner)  # warm up (regexes, imports): the peers' times exclude start-up too
    t0 = time.perf_counter()
    results = scan_tree(folders, scanner=scanner)
    secs = time.perf_counter() - t0
    batch = {r.folder: bool(r.blocking) for r in results}
    differs = [f.name for f in folders if bool(scan_tree([f], scanner=scanner)[0].blocking) != batch[f]]
    return batch, secs, differs


def build_sets(tmp: Path, community_all: list[Path], sample: int) -> dict[str, tuple[list[Path], str, bool]]:
    """``label -> (skill folders, trust tier, malicious?)`` for every set of the table."""
    sets: dict[str, tuple[list[Path], str, bool]] = {
        "legacy malicious": (discover_skills(ROOT / "tests/security/cases/malicious"), "community", True),
        "legacy benign": (discover_skills(ROOT / "tests/security/cases/benign"), "community", False),
    }
    for name in ("dev", "holdout"):
        sets[f"{name} malicious"] = (materialize(name, "malicious", tmp), "community", True)
        sets[f"{name} benign"] = (materialize(name, "benign", tmp), "community", False)
    if CORPORA.is_dir():
        sets["corpora (team)"] = (discover_skills(CORPORA), "team", False)
    if community_all:
        chosen = sorted(random.Random(12).sample(community_all, min(sample, len(community_all))))
        sets[f"community sample ({len(chosen)})"] = (chosen, "community", False)
    return sets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=600, help="community skills the peers scan (seeded sample)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--community", type=Path, default=COMMUNITY)
    ap.add_argument("--fresh", type=Path, action="append", default=None,
                    help="further real-world corpus, repeatable (default: the fresh and fresh2 manifests' folders)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="scan-eval-"))
    community_all = discover_skills(args.community) if args.community.is_dir() else []
    sets = build_sets(tmp, community_all, args.sample)
    peers = [] if args.no_peers else list(PEERS)
    rows = []
    total = {"skillctl": [0.0, 0], **{p: [0.0, 0] for p in peers}}
    for label, (folders, trust, malicious) in sets.items():
        n = len(folders)
        flagged, secs, differs = ours(folders, trust)
        row = {"set": label, "n": n, "malicious": malicious,
               "skillctl": (sum(flagged.values()), secs, differs,
                            sorted(f.name for f, v in flagged.items() if v != malicious))}
        total["skillctl"][0] += secs
        total["skillctl"][1] += n
        for peer in peers:
            got, psecs = run_peer(peer, folders)
            row[peer] = (sum(1 for v in got.values() if v), psecs, [],
                         sorted(f.name for f, v in got.items() if bool(v) != malicious))
            total[peer][0] += psecs
            total[peer][1] += n
        rows.append(row)
    whole = []
    for directory in (args.community, *(args.fresh if args.fresh is not None else FRESH)):
        name = directory.name
        folders = discover_skills(directory) if directory.is_dir() else []
        if not folders:
            continue
        flagged, secs, differs = ours(folders, "community")
        blocked = sorted(str(f.relative_to(directory)) for f, v in flagged.items() if v)
        (CACHE / f"{name}-blocked.json").write_text(json.dumps(blocked, indent=1))
        whole.append((name, len(blocked), len(folders), secs, len(differs)))
    print_table(rows, peers, total)
    for name, n_blocked, n, secs, n_differs in whole:
        print(f"\nskillctl on the whole {name} corpus: {n_blocked}/{n} blocked = {n_blocked / n:.2%}, "
              f"{secs / n * 1000:.1f} ms/skill, {n_differs} verdicts differ alone vs batch; "
              f"list in {CACHE / (name + '-blocked.json')}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


def print_table(rows: list[dict], peers: list[str], total: dict[str, list]) -> None:  # type: ignore[type-arg]
    tools = ["skillctl", *peers]
    print(f"{'set':<28}{'n':>6}  " + "".join(f"{t:>24}" for t in tools))
    for row in rows:
        what = "recall" if row["malicious"] else "blocked"
        cells = []
        for t in tools:
            hits, _secs, _d, _wrong = row[t]
            cells.append(f"{what} {hits}/{row['n']} {hits / row['n']:6.1%}" if row["n"] else "-")
        print(f"{row['set']:<28}{row['n']:>6}  " + "".join(f"{c:>24}" for c in cells))
    ms = {t: total[t][0] / total[t][1] * 1000 for t in tools if total[t][1]}
    print(f"{'ms per skill (all sets)':<34}" + "".join(f"{ms[t]:>24.1f}" for t in tools))
    for p in peers:
        print(f"skillctl is {ms[p] / ms['skillctl']:.1f}x faster per skill than {p} (same skills, same run)")
    differs = sum(len(r["skillctl"][2]) for r in rows)
    print(f"skillctl verdicts that differ alone vs in the batch: {differs}")
    for row in rows:
        wrong = row["skillctl"][3]
        if wrong:
            print(f"  skillctl wrong on {row['set']}: {', '.join(wrong[:12])}{' ...' if len(wrong) > 12 else ''}")


if __name__ == "__main__":
    main()
