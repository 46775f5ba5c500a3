"""``schedule``: re-verify what is due, audit everything, record and commit the verdicts.

What is due is computed from the lock, not from when the scheduler last ran: a skill whose TTL
ran out while the machine was off, that was never verified, or whose files changed since its
verdict is due now. A missed run is therefore caught up by the next one instead of skipped,
and ``--once`` from cron is as good as the ``--every`` daemon.

It is safe next to a human using the CLI: lock writes go through the lock's file guard
(``lock_transaction``), and a second scheduler on the same repo skips its run instead of
duplicating work.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from skillctl.clock import as_utc, format_ts, utcnow
from skillctl.config import load_config
from skillctl.errors import InputError
from skillctl.lock import read_lock, skill_digest
from skillctl.model import parse_ttl
from skillctl.parse import read_skill
from skillctl.repo import discover_skills, relpath
from skillctl.rot.audit import AuditReport, expiry, run_audit
from skillctl.vocab import format_duration, parse_duration

DEFAULT_LEAD = timedelta(days=1)


def parse_interval(text: str) -> timedelta:
    """``90s``, ``30m``, ``1h``, ``2d``, ``1w`` -> timedelta; anything else is an InputError."""
    delta = parse_duration(str(text))
    if delta is None:
        raise InputError(f"{text!r} is not a duration like 30m, 1h or 1d", code="SC003")
    return delta


@dataclass(frozen=True)
class Due:
    name: str
    path: str
    reason: str


@dataclass
class ScheduleReport:
    started_at: datetime
    due: list[Due] = field(default_factory=list)
    verify: Any = None
    audit: AuditReport | None = None
    skipped: str | None = None
    dry_run: bool = False
    """The pass ran on a scratch copy of the repo: the verdicts are real, nothing was written."""

    @property
    def commits(self) -> list[str]:
        return [c for c in (getattr(self.verify, "commit", None), self.audit and self.audit.commit) if c]

    @property
    def exit_code(self) -> int:
        codes = [0]
        if self.verify is not None:
            codes.append(self.verify.exit_code)
        if self.audit is not None:
            codes.append(self.audit.exit_code)
        return max(codes)

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at, "skipped": self.skipped,
            "due": [d.__dict__ for d in self.due],
            "verify": self.verify.model_dump(mode="json") if self.verify is not None else None,
            "audit": self.audit.to_json() if self.audit is not None else None,
            "commits": self.commits, "dry_run": self.dry_run,
        }


def due_skills(root: Path, now: datetime, lead: timedelta = DEFAULT_LEAD) -> list[Due]:
    """Skills to re-verify now: never verified, changed since verified, expired or expiring
    within *lead*. Retired skills never are; quarantined ones only once a human approved them."""
    root = Path(root)
    config = load_config(root)
    lock = read_lock(root)
    default_ttl = parse_ttl(config.ttl)
    by_path = {entry.path: name for name, entry in lock.skills.items() if entry.path}
    due: list[Due] = []
    for folder in discover_skills(root):
        rel = relpath(folder, root)
        name = by_path.get(rel, folder.name)
        entry = lock.skills.get(name)
        if entry is not None and (entry.status == "retired" or (entry.status == "quarantined"
                                                                 and entry.approval is None)):
            continue
        if entry is None or entry.verified_at is None:
            due.append(Due(name, rel, "never verified"))
            continue
        try:
            digest = skill_digest(folder, root=root)
            skill = read_skill(folder, root=root)
        except InputError as exc:
            due.append(Due(name, rel, f"unreadable: {exc.message}"))
            continue
        if entry.digest != digest:
            due.append(Due(name, rel, "content changed since its last verification"))
            continue
        ttl = (skill.lifecycle.ttl_delta() if skill.lifecycle else None) or default_ttl
        expires = expiry(entry.expires_at, entry.verified_at, ttl)
        if expires is None or expires <= now:
            due.append(Due(name, rel, f"ttl expired at {format_ts(expires)}" if expires else "no expiry recorded"))
        elif expires - now <= lead:
            within = f"within the {format_duration(lead)} lead time"
            due.append(Due(name, rel, f"ttl expires at {format_ts(expires)} ({within})"))
    return due


@contextlib.contextmanager
def scheduler_guard(root: Path) -> Iterator[bool]:
    """True when this process is the only scheduler on *root* (non-blocking flock)."""
    state = Path(root) / ".skillctl"
    state.mkdir(exist_ok=True)
    with open(state / "schedule.flock", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def run_once(root: Path, *, lead: timedelta = DEFAULT_LEAD, apply: bool = True, jobs: int = 1,
             offline: bool = False, now: datetime | None = None) -> ScheduleReport:
    """One scheduler pass: verify what is due, then audit the whole repo (applying both)."""
    from skillctl.verify import run_verify

    root = Path(root).resolve()
    now = as_utc(now) if now else utcnow()
    report = ScheduleReport(started_at=now)
    with scheduler_guard(root) as alone:
        if not alone:
            report.skipped = "another scheduler is running on this repo"
            return report
        report.due = due_skills(root, now, lead)
        runnable = [d.name for d in report.due if not d.reason.startswith("unreadable")]
        if runnable:
            report.verify = run_verify(root, runnable, force=True, apply=apply, jobs=jobs, now=now)
        report.audit = run_audit(root, offline=offline, apply=apply, now=now)
    return report


def dry_run_once(root: Path, **kwargs: Any) -> ScheduleReport:
    """A whole scheduler pass (sandboxed checks, audit, transitions) on a scratch copy of *root*.

    The checks really run and the audit really asks the registries (or the snapshot), so the
    statuses shown are what ``run_once`` would record, but the user's checkout, its lock and its
    git history are never written. The copy leaves out ``.git``: nothing can be committed there.
    """
    import shutil
    import tempfile

    root = Path(root).resolve()
    with tempfile.TemporaryDirectory(prefix="skillctl-dry-run-") as scratch:
        copy = Path(scratch) / root.name
        shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        report = run_once(copy, apply=True, **kwargs)
    report.dry_run = True
    return report


def run_every(root: Path, interval: timedelta, *, on_report: Callable[[ScheduleReport], None],
              max_runs: int | None = None, **kwargs: Any) -> None:
    """Run forever (or *max_runs* times), one pass every *interval*, starting immediately.

    The next pass is timed from the start of the previous one; a pass that overruns the
    interval is followed immediately by the next, never by a burst of missed ones.
    """
    runs = 0
    while max_runs is None or runs < max_runs:
        started = time.monotonic()
        on_report(run_once(root, **kwargs))
        runs += 1
        if max_runs is not None and runs >= max_runs:
            return
        time.sleep(max(0.0, interval.total_seconds() - (time.monotonic() - started)))
