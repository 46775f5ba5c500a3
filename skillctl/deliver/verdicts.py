"""The loader's verdict on every skill of a repo, judged on every core when there are many.

A cold ``sync`` must judge each skill (parse SKILL.md, digest the folder) before it may copy
anything, and that is most of its CPU. The skills are independent of one another, so past
``PARALLEL_FROM`` pairs they are judged by forked workers, each running the loader's own
``judge`` with the repository's ``LoadContext`` built once in the parent; the verdicts come
back in lock order, exactly as ``loader.explain_load`` lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from skillctl.loader import LoadContext, LoadedSkill, Rejection, judge, match_lock
from skillctl.lock import read_lock
from skillctl.lockmodel import LockEntry

PARALLEL_FROM = 256
CHUNK = 32

# What forked workers judge, set by the parent just before it forks (read, never written, by them).
_JOB: tuple[Path, Sequence[tuple[str, LockEntry, Path | None]], datetime, LoadContext] | None = None


def loaded_skills(root: Path, folders: list[Path], now: datetime) -> list[LoadedSkill]:
    """``explain_load(root, now).loaded`` for the skill *folders* found in *root* (resolved):
    the loadable skills in lock order. LockError when the lock is missing or corrupt."""
    lock = read_lock(root, missing_ok=False)
    context = LoadContext.for_repo(root, lock)
    pairs, _ = match_lock(root, lock, folders)
    return [v for v in _judge_all(root, pairs, now, context) if isinstance(v, LoadedSkill)]


def _judge_all(root: Path, pairs: Sequence[tuple[str, LockEntry, Path | None]], now: datetime,
               context: LoadContext) -> list[LoadedSkill | Rejection]:
    global _JOB
    from skillctl.deliver.folders import can_fork, cores

    workers = min(cores(), 4)
    if len(pairs) < PARALLEL_FROM or workers < 2 or not can_fork():
        return [judge(root, name, entry, folder, now, context=context) for name, entry, folder in pairs]
    import multiprocessing

    _JOB = (root, pairs, now, context)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.map(_judge_one, range(len(pairs)), chunksize=CHUNK)
    finally:
        _JOB = None


def _judge_one(i: int) -> Any:
    assert _JOB is not None, "a worker is forked only after the job is set"
    root, pairs, now, context = _JOB
    name, entry, folder = pairs[i]
    return judge(root, name, entry, folder, now, context=context)

