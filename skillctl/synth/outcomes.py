"""Outcomes: how a skill fared each time an agent used it, and what that evidence decides.

A skill that encodes a mistake is reinforced every time it loads (the confidence problem); the
lock's checks cannot see that, because the check may pass while real tasks keep failing. So
skillctl keeps a record of uses — typed in by a human (``skillctl record``), reported by an
agent through MCP (``record_outcome``), or found in session files (``skillctl outcomes
ingest``) — in ``.skillctl/state.db``, and ``schedule`` demotes a skill whose success rate
over a window falls below the policy, with the evidence as the lock's reason.

The state database is derived and rebuilt when corrupt, so outcomes are evidence, not truth:
losing them loses a demotion that has not happened yet, never a verdict already in the lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from skillctl.errors import InputError

OUTCOMES = ("success", "failure")
#: Where an outcome came from: a human, the MCP tool, or a session file found by ingest.
SOURCES = ("manual", "mcp", "session")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_NOTE = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class OutcomeRecord:
    """One recorded use of a skill and how the task went."""

    id: int
    name: str
    outcome: str
    note: str | None
    source: str
    at: str
    session: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SkillStats:
    """A skill's record over a window: what ``skillctl stats`` prints and the policy judges."""

    name: str
    uses: int
    successes: int
    failures: int
    since: str | None
    last_failure: OutcomeRecord | None

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.uses if self.uses else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["success_rate"] = self.success_rate
        data["last_failure"] = self.last_failure.to_dict() if self.last_failure else None
        return data


@dataclass(frozen=True)
class OutcomePolicy:
    """When the evidence of use turns into a ``failing`` verdict (``outcomes:`` in skillctl.yaml)."""

    min_uses: int = 5
    min_success_rate: float = 0.5
    window: timedelta = timedelta(days=30)


def _clean_name(name: str) -> str:
    if not isinstance(name, str) or not (1 <= len(name) <= 64) or not NAME_RE.match(name):
        raise InputError(f"{name!r} is not a skill name (1-64 chars of a-z, 0-9 and single hyphens)",
                         code="SC080")
    return name


def _clean_note(note: str | None) -> str | None:
    """Notes come from agents too: strip control characters (terminal escapes) and cap the size."""
    if note is None:
        return None
    text = _CONTROL.sub("", str(note)).strip()
    if len(text) > MAX_NOTE:
        text = text[: MAX_NOTE - 1] + "…"
    return text or None


def record_outcome(root: Path, name: str, outcome: str, note: str | None = None, source: str = "manual",
                   *, session: str | None = None, event: str | None = None,
                   at: datetime | None = None) -> OutcomeRecord:
    """Store one outcome for skill *name* in the repo's state database and return it.

    *event* makes the write idempotent (ingest passes ``session-id#step``): a second record with
    the same event is not added and the stored one is returned.
    """
    from skillctl.clock import format_ts, utcnow

    _clean_name(name)
    if outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}", code="SC081")
    if source not in SOURCES:
        raise InputError(f"source must be one of {', '.join(SOURCES)}, not {source!r}", code="SC082")
    stamp = format_ts(at or utcnow())
    clean = _clean_note(note)
    db = _open(root)
    try:
        cur = db.execute(
            "INSERT INTO outcomes (skill, outcome, note, source, session, at, event) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(event) DO NOTHING",
            [name, outcome, clean, source, session, stamp, event])
        if cur.rowcount == 0 and event is not None:
            row = db.execute(f"SELECT {_COLUMNS} FROM outcomes WHERE event = ?", [event]).fetchone()
            return _record(row)
        return OutcomeRecord(int(cur.lastrowid or 0), name, outcome, clean, source, stamp, session)
    finally:
        db.close()


def record_many(root: Path, items: Iterable[dict[str, Any]]) -> int:
    """Store many outcomes in one transaction (ingest); returns how many were new."""
    from skillctl.clock import format_ts, utcnow

    rows = []
    for item in items:
        _clean_name(item["name"])
        if item["outcome"] not in OUTCOMES:
            raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}", code="SC081")
        at = item.get("at")
        rows.append([item["name"], item["outcome"], _clean_note(item.get("note")), item.get("source", "session"),
                     item.get("session"), at if isinstance(at, str) else format_ts(at or utcnow()),
                     item.get("event")])
    if not rows:
        return 0
    db = _open(root)
    try:
        before = db.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        db.execute("BEGIN")
        db.conn.executemany(
            "INSERT INTO outcomes (skill, outcome, note, source, session, at, event) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(event) DO NOTHING", rows)
        db.execute("COMMIT")
        return int(db.execute("SELECT count(*) FROM outcomes").fetchone()[0] - before)
    finally:
        db.close()


_COLUMNS = "id, skill, outcome, note, source, at, session"


def _record(row: Any) -> OutcomeRecord:
    return OutcomeRecord(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6])


def list_outcomes(root: Path, name: str | None = None, since: datetime | None = None,
                  limit: int | None = None) -> list[OutcomeRecord]:
    """Recorded outcomes, newest first, optionally for one skill and after *since*."""
    from skillctl.clock import format_ts

    sql = f"SELECT {_COLUMNS} FROM outcomes WHERE 1=1"
    args: list[Any] = []
    if name is not None:
        sql += " AND skill = ?"
        args.append(name)
    if since is not None:
        sql += " AND at >= ?"
        args.append(format_ts(since))
    sql += " ORDER BY at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    db = _open(root)
    try:
        return [_record(row) for row in db.execute(sql, args).fetchall()]
    finally:
        db.close()


def skill_stats(root: Path, window: timedelta | None = None, names: Iterable[str] | None = None) -> list[SkillStats]:
    """Per-skill uses, successes and last failure within *window* (None: all time), by name."""
    from skillctl.clock import format_ts, utcnow

    since = format_ts(utcnow() - window) if window is not None else None
    wanted = set(names) if names is not None else None
    where, args = ("WHERE at >= ?", [since]) if since else ("", [])
    db = _open(root)
    try:
        counts = db.execute(
            f"SELECT skill, count(*), sum(outcome = 'success'), sum(outcome = 'failure') FROM outcomes {where}"
            " GROUP BY skill ORDER BY skill", args).fetchall()
        result = []
        for skill, uses, ok, bad in counts:
            if wanted is not None and skill not in wanted:
                continue
            last = db.execute(
                f"SELECT {_COLUMNS} FROM outcomes WHERE skill = ? AND outcome = 'failure'"
                " ORDER BY at DESC, id DESC LIMIT 1", [skill]).fetchone()
            result.append(SkillStats(skill, int(uses), int(ok or 0), int(bad or 0), since,
                                     _record(last) if last else None))
        return result
    finally:
        db.close()


def judge(stats: SkillStats, policy: OutcomePolicy) -> str | None:
    """The reason a skill should be ``failing`` on this evidence, or None when it may stay.

    The reason names the numbers and the last failure, so the lock says why without state.db.
    """
    rate = stats.success_rate
    if rate is None or stats.uses < policy.min_uses or rate >= policy.min_success_rate:
        return None
    reason = (f"outcomes: {stats.successes}/{stats.uses} uses succeeded ({rate:.0%}) since {stats.since or 'ever'},"
              f" below {policy.min_success_rate:.0%}")
    if stats.last_failure is not None:
        last = stats.last_failure
        where = f" in session {last.session}" if last.session else ""
        note = f": {last.note}" if last.note else ""
        reason += f"; last failure {last.at} ({last.source}{where}){note}"
    return reason[:500]


def failing_by_outcomes(root: Path, policy: OutcomePolicy | None = None,
                        names: Iterable[str] | None = None) -> dict[str, str]:
    """Skill name -> reason, for every skill whose record fails *policy* (what schedule applies)."""
    policy = policy or OutcomePolicy()
    return {s.name: reason for s in skill_stats(root, policy.window, names)
            if (reason := judge(s, policy)) is not None}


def _open(root: Path) -> Any:
    from skillctl.state import open_state

    return open_state(Path(root))
