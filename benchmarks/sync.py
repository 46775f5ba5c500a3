"""Delivery speed: ``sync`` of 1,000 skills into three agent folders, and ``import`` of the corpora.

Run: ``.venv/bin/python benchmarks/sync.py``. Every figure is printed beside a baseline
measured in the same run on the same files, so the ratios survive a noisy shared machine:

- cold sync (empty targets) against a naive ``shutil.copytree`` of the same folders into the
  same three targets (no verdicts, no manifest, no digest check), and against that copy plus
  the loader's verdict, which a cold sync cannot skip. Target: <= 2 s.
- nothing-changed sync against that same naive copy and against the loader's own verdict
  (``explain_load``, which re-reads and hashes every skill). Target: <= 0.2 s.
- import of the corpora (226 skills) against copying the same folders and against
  ``scan`` of the same skills (import scans each one). Target: <= 2 s.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import CORPORA, best_of, make_synthetic

from skillctl.deliver.importer import run_import
from skillctl.deliver.sync import run_sync
from skillctl.deliver.targets import Target
from skillctl.loader import explain_load
from skillctl.lock import skill_digest, write_lock
from skillctl.lockmodel import Lock, LockEntry


def verified(root: Path, count: int) -> list[Path]:
    folders = make_synthetic(root, count)
    now = datetime.now(timezone.utc)
    write_lock(root, Lock(skills={f.name: LockEntry(
        status="active", digest=skill_digest(f), path=f"skills/{f.name}", verified_at=now,
        expires_at=now + timedelta(days=30)) for f in folders}))
    return folders


def fresh_targets(base: Path) -> list[Target]:
    for name in ("claude", "agents", "other"):
        shutil.rmtree(base / name, ignore_errors=True)
    return [Target(name, base / name) for name in ("claude", "agents", "other")]


def line(label: str, seconds: float, baseline: str, base_seconds: float, target: float | None = None) -> None:
    verdict = "" if target is None else ("  OK" if seconds <= target else f"  over the {target:g} s target")
    print(f"{label:<34} {seconds * 1000:8.1f} ms   {seconds / base_seconds:6.2f}x {baseline}{verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skills", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        repo = tmpdir / "repo"
        folders = verified(repo, args.skills)
        out = tmpdir / "out"
        out.mkdir()

        def naive() -> None:
            for t in fresh_targets(out):
                t.path.mkdir()
                for f in folders:
                    shutil.copytree(f, t.path / f.name)

        def cold() -> None:
            shutil.rmtree(repo / ".skillctl", ignore_errors=True)  # no cached verdicts either
            run_sync(repo, fresh_targets(out), project=tmpdir)

        naive_s = best_of(naive)
        loader_s = best_of(lambda: explain_load(repo))
        cold_s = best_of(cold)
        targets = [Target(n, out / n) for n in ("claude", "agents", "other")]
        assert run_sync(repo, targets, project=tmpdir).exit_code == 0
        warm_s = best_of(lambda: run_sync(repo, targets, project=tmpdir), repeat=5)
        print(f"sync of {args.skills} skills into 3 targets")
        line("cold sync", cold_s, "naive copytree x3", naive_s, 2.0)
        line("cold sync", cold_s, "loader verdict + naive copytree x3", loader_s + naive_s, 2.0)
        line("nothing-changed sync", warm_s, "naive copytree x3", naive_s, 0.2)
        line("nothing-changed sync", warm_s, "loader verdict alone", loader_s, 0.2)

        if not CORPORA.is_dir():
            print(f"import: skipped, corpora not found at {CORPORA} (set SKILLCTL_CORPORA)")
            return
        from skillctl.init import init_repo
        from skillctl.repo import discover_skills
        from skillctl.scan import scan_tree

        corpus = discover_skills(CORPORA)

        def copy_corpus() -> None:
            dest = tmpdir / "copy"
            shutil.rmtree(dest, ignore_errors=True)
            for f in corpus:
                shutil.copytree(f, dest / f.relative_to(CORPORA), symlinks=True)

        def do_import(commit: bool) -> None:
            target = tmpdir / ("imp-git" if commit else "imp")
            shutil.rmtree(target, ignore_errors=True)
            if commit:
                init_repo(target)
            else:
                target.mkdir()
            run_import(target, CORPORA, apply=True)

        copy_s = best_of(copy_corpus)
        scan_s = best_of(lambda: scan_tree([CORPORA]))
        imp_s = best_of(lambda: do_import(False))
        imp_git_s = best_of(lambda: do_import(True))
        print(f"\nimport of the corpora ({len(corpus)} skills)")
        line("import (lock written, no git)", imp_s, "copytree alone", copy_s, 2.0)
        line("import (lock written, no git)", imp_s, "scan alone", scan_s, 2.0)
        line("import + git commit", imp_git_s, "scan alone", scan_s)


if __name__ == "__main__":
    main()
