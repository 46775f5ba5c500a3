"""Delivery speed: ``sync`` of 1,000 skills into three agent folders, and ``import`` of the corpora.

Run: ``.venv/bin/python benchmarks/sync.py``. Every figure is printed beside a baseline
measured in the same run on the same files, so the ratios survive a noisy shared machine:

- cold sync (empty targets) against a naive ``shutil.copytree`` of the same folders into the
  same three targets (no verdicts, no manifest, no digest check), and against that copy plus
  the loader's verdict, which a cold sync cannot skip. Target: <= 2 s.
- nothing-changed sync against that same naive copy and against the loader's own verdict
  (``explain_load``, which re-reads and hashes every skill). Target: <= 0.2 s. A file's
  ``lstat`` vouches for its content only ``repo.RACY_NS`` after its last change, so the repo is
  left alone that long before the first sync (as a checkout is, in use), and the first sync
  after the copies settle digests them once to record their stamps; it is printed too.
- import of the corpora (226 skills) against copying the same folders and against
  ``scan`` of the same skills (import scans each one). Target: <= 2 s.

Every timed round writes into folders of its own, and nothing is deleted until all rounds
are done: ext4 makes creating files slow for about 30 s after many were deleted nearby (it
skips recently freed inodes one by one), which made each round pay for the previous round's
cleanup, 2-4x over, in the baselines and in the measured command alike.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import CORPORA, make_synthetic

from skillctl.deliver.importer import run_import
from skillctl.deliver.sync import run_sync
from skillctl.deliver.targets import Target
from skillctl.loader import explain_load
from skillctl.lock import skill_digest, write_lock
from skillctl.lockmodel import Lock, LockEntry
from skillctl.repo import RACY_NS


def verified(root: Path, count: int) -> list[Path]:
    folders = make_synthetic(root, count)
    now = datetime.now(timezone.utc)
    write_lock(root, Lock(skills={f.name: LockEntry(
        status="active", digest=skill_digest(f), path=f"skills/{f.name}", verified_at=now,
        expires_at=now + timedelta(days=30)) for f in folders}))
    return folders


def targets_in(base: Path) -> list[Target]:
    return [Target(name, base / name) for name in ("claude", "agents", "other")]


class Rounds:
    """Best of *repeat* timed runs, each given a new empty folder under *base* (deleted at the end)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.count = 0

    def best(self, fn: Callable[[Path], object], repeat: int = 3) -> float:
        times = []
        for _ in range(repeat):
            self.count += 1
            fresh = self.base / f"round-{self.count}"
            t0 = time.perf_counter()
            fn(fresh)
            times.append(time.perf_counter() - t0)
        return min(times)


def line(label: str, seconds: float, baseline: str, base_seconds: float, target: float | None = None) -> None:
    verdict = "" if target is None else ("  OK" if seconds <= target else f"  over the {target:g} s target")
    print(f"{label:<34} {seconds * 1000:8.1f} ms   {seconds / base_seconds:6.2f}x {baseline}{verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skills", type=int, default=1000)
    ap.add_argument("--dir", help="where to build the repo and targets (default: the system temp folder); "
                    "file creation speed differs a lot between folders of one disk, e.g. /tmp after a test "
                    "run deleted many files in it, so compare the ratios, or run in two places")
    args = ap.parse_args()
    print(f"working in {args.dir or tempfile.gettempdir()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmpdir = Path(tmp)
        repo = tmpdir / "repo"
        folders = verified(repo, args.skills)
        time.sleep(RACY_NS / 1e9)  # a checkout is older than that when it is synced
        rounds = Rounds(tmpdir / "out")

        def naive(out: Path) -> None:
            for t in targets_in(out):
                t.path.mkdir(parents=True)
                for f in folders:
                    shutil.copytree(f, t.path / f.name)

        def cold(out: Path) -> None:
            shutil.rmtree(repo / ".skillctl", ignore_errors=True)  # no cached verdicts either
            run_sync(repo, targets_in(out), project=tmpdir)

        naive_s, loader_s, cold_s = [], [], []
        for _ in range(3):  # interleaved, so a burst of load on the machine hits all three alike
            naive_s.append(rounds.best(naive, 1))
            loader_s.append(rounds.best(lambda _: explain_load(repo), 1))
            cold_s.append(rounds.best(cold, 1))
        naive_b, loader_b, cold_b = min(naive_s), min(loader_s), min(cold_s)
        targets = targets_in(tmpdir / "warm")
        assert run_sync(repo, targets, project=tmpdir).exit_code == 0
        time.sleep(RACY_NS / 1e9)
        t0 = time.perf_counter()
        assert run_sync(repo, targets, project=tmpdir).exit_code == 0  # digests the copies, records stamps
        settle_s = time.perf_counter() - t0
        warm_s = rounds.best(lambda _: run_sync(repo, targets, project=tmpdir), repeat=5)
        print(f"sync of {args.skills} skills into 3 targets")
        line("cold sync", cold_b, "naive copytree x3", naive_b, 2.0)
        line("cold sync", cold_b, "loader verdict + naive copytree x3", loader_b + naive_b, 2.0)
        line("nothing-changed sync", warm_s, "naive copytree x3", naive_b, 0.2)
        line("nothing-changed sync", warm_s, "loader verdict alone", loader_b, 0.2)
        line("first sync after a write settles", settle_s, "loader verdict alone", loader_b)

        if not CORPORA.is_dir():
            print(f"import: skipped, corpora not found at {CORPORA} (set SKILLCTL_CORPORA)")
            return
        from skillctl.init import init_repo
        from skillctl.repo import discover_skills
        from skillctl.scan import scan_tree

        corpus = discover_skills(CORPORA)

        def copy_corpus(dest: Path) -> None:
            for f in corpus:
                shutil.copytree(f, dest / f.relative_to(CORPORA), symlinks=True)

        def do_import(target: Path, commit: bool) -> None:
            if commit:
                init_repo(target)
            else:
                target.mkdir(parents=True)
            run_import(target, CORPORA, apply=True)

        copies, scans, imports = [], [], []
        for _ in range(3):
            copies.append(rounds.best(copy_corpus, 1))
            scans.append(rounds.best(lambda _: scan_tree([CORPORA]), 1))
            imports.append(rounds.best(lambda out: do_import(out, False), 1))
        copy_s, scan_s, imp_s = min(copies), min(scans), min(imports)
        imp_git_s = rounds.best(lambda out: do_import(out, True))
        print(f"\nimport of the corpora ({len(corpus)} skills)")
        line("import (lock written, no git)", imp_s, "copytree alone", copy_s, 2.0)
        line("import (lock written, no git)", imp_s, "scan alone", scan_s, 2.0)
        line("import + git commit", imp_git_s, "scan alone", scan_s)


if __name__ == "__main__":
    main()
