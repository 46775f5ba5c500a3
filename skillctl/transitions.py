"""Lifecycle transitions (docs/DESIGN.md, "The lifecycle") as pure functions: old lock entry + evidence -> new entry.

Kept free of I/O so every rule can be tested with plain values and a frozen clock. The one
piece of memory the rules need across runs — "did this skill already fail last time?" — lives
in the entry's ``notes`` as a ``suspect:`` line, so a single bad run never demotes a skill
(it may be flaky or the network may be down) but two in a row do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from skillctl.clock import format_ts
from skillctl.lockmodel import LockEntry

if TYPE_CHECKING:  # the runner's results are only read here; importing verify would be a cycle
    from skillctl.verify.runner import CheckResult

SUSPECT = "suspect: "
FLAKY = "flaky: "
MAX_FLAKY_NOTES = 3
MAX_REASON = 100  # keeps a one-transition commit subject readable

Verdict = Literal["pass", "flaky", "fail", "error"]


@dataclass
class Outcome:
    """One check across its attempts in this run: the first and the last result."""

    first: CheckResult
    last: CheckResult

    @property
    def id(self) -> str:
        return self.first.id

    @property
    def verdict(self) -> Verdict:
        if self.first.passed:
            return "pass"
        if self.last.passed:
            return "flaky"
        return "error" if self.last.status == "error" else "fail"


@dataclass
class Evidence:
    """What one verification of one skill established."""

    digest: str
    version: str | None
    path: str | None
    env: dict[str, str]
    commit: str | None
    ttl: timedelta
    outcomes: list[Outcome]
    problem: str | None = None  # why the checks could not run at all (e.g. duplicate ids)


def _keep_notes(old: LockEntry | None, *, drop: str) -> list[str]:
    return [n for n in (old.notes if old else []) if not n.startswith(drop)]


def _with_status(old: LockEntry | None, status: str, now: datetime, **fields: object) -> LockEntry:
    base = old.model_copy(deep=True) if old else LockEntry()
    since = base.since if old is not None and old.status == status and base.since else now
    return base.model_copy(update={"status": status, "since": since, **fields})


def failure_reason(outcomes: list[Outcome], problem: str | None) -> str | None:
    """``check extracts-sample exit 1``: the first failing check, as the commit message names it."""
    if problem:
        return problem
    if not outcomes:
        return "no checks in ## Verification: nothing proves this skill works"
    for o in outcomes:
        if o.verdict in ("fail", "error"):
            return f"check {o.id} {o.last.reason}"
    return None


def after_verification(old: LockEntry | None, ev: Evidence, now: datetime) -> LockEntry:
    """The entry after the checks ran (scan was clean or approved)."""
    checks = {o.id: o.verdict for o in ev.outcomes}
    common: dict[str, object] = {
        "digest": ev.digest, "version": ev.version, "path": ev.path or (old.path if old else None),
        "verified_at": now, "verified_commit": ev.commit, "checks": checks, "env": dict(ev.env),
        "findings": [],
    }
    failure = failure_reason(ev.outcomes, ev.problem)
    if failure is None:
        notes = _keep_notes(old, drop=SUSPECT)
        flaky = [o for o in ev.outcomes if o.verdict == "flaky"]
        for o in flaky:
            notes.append(f"{FLAKY}check {o.id} failed once ({o.first.reason}) then passed, {format_ts(now)}")
        notes = _trim_flaky(notes)
        passed = len(ev.outcomes)
        reason = f"{passed}/{passed} checks passed" + (f" ({len(flaky)} flaky)" if flaky else "")
        return _with_status(old, "active", now, reason=reason, expires_at=now + ev.ttl, notes=notes, **common)
    prior = old.status if old else "draft"
    already_suspect = old is not None and any(n.startswith(SUSPECT) for n in old.notes)
    notes = _keep_notes(old, drop=SUSPECT)
    if prior == "failing" or (prior in ("active", "stale") and already_suspect):
        return _with_status(old, "failing", now, reason=failure, notes=notes, **common)
    if prior in ("active", "stale"):
        notes.append(f"{SUSPECT}{failure}, {format_ts(now)}; fails again => failing")
        return _with_status(old, prior, now, reason=f"{failure} (first failure, not demoted yet)",
                            notes=notes, **common)
    # A draft never passed, and an approved quarantine has not passed yet: nothing to demote.
    return _with_status(old, prior, now, reason=failure, notes=notes, **common)


def after_block(old: LockEntry | None, *, digest: str, version: str | None, path: str | None,
                findings: list[str], now: datetime) -> LockEntry:
    """Any -> quarantined: a blocking security finding; nothing was executed."""
    reason = "blocking scan finding(s): " + ", ".join(findings)
    return _with_status(old, "quarantined", now, reason=reason, digest=digest, version=version,
                        path=path or (old.path if old else None), findings=list(findings))


def after_invalid(old: LockEntry | None, *, digest: str, version: str | None, path: str | None,
                  errors: list[str], now: datetime) -> LockEntry:
    """A SKILL.md with validate errors never runs and never stays loadable.

    ``errors`` are ``CODE line N: message`` strings; their codes go in ``findings`` so the
    loader refuses the entry even if its status were edited, and the reason names the first.
    Active/stale/failing become failing (its content is broken now, not flaky); a draft or a
    quarantined skill keeps its status.
    """
    prior = old.status if old else "draft"
    status = "failing" if prior in ("active", "stale", "failing") else prior
    codes = sorted({e.split(" ", 1)[0] for e in errors})
    reason = f"invalid SKILL.md ({len(errors)} validate error(s)): {errors[0]}"
    return _with_status(old, status, now, reason=reason, digest=digest, version=version,
                        path=path or (old.path if old else None), findings=codes, checks={},
                        notes=_keep_notes(old, drop=SUSPECT))


def _trim_flaky(notes: list[str]) -> list[str]:
    flaky = [n for n in notes if n.startswith(FLAKY)]
    drop = set(flaky[:-MAX_FLAKY_NOTES]) if len(flaky) > MAX_FLAKY_NOTES else set()
    return [n for n in notes if n not in drop]


def describe(name: str, old: LockEntry | None, new: LockEntry) -> str | None:
    """``pdf-table-extract active -> failing (check extracts-sample exit 1)``, or None if no move."""
    before = old.status if old else "untracked"
    if before == new.status:
        return None
    reason = new.reason if len(new.reason) <= MAX_REASON else new.reason[: MAX_REASON - 1] + "…"
    return f"{name} {before} -> {new.status} ({reason})"
