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
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.vocab import is_skill_name

OUTCOMES = ("success", "failure")
#: Where an outcome came from: a human, the MCP tool, or a session file found by ingest.
SOURCES = ("manual", "mcp", "session")
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
    if not is_skill_name(name):
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
                   at: datetime | None = None, digest: str | None = None) -> OutcomeRecord:
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
    digest = digest or lock_digests(root).get(name)
    db = _open(root)
    try:
        cur = db.execute(
            "INSERT INTO outcomes (skill, outcome, note, source, session, at, event, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event) DO NOTHING",
            [name, outcome, clean, source, session, stamp, event, digest])
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
    digests = lock_digests(root)
    for item in items:
        _clean_name(item["name"])
        if item["outcome"] not in OUTCOMES:
            raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}", code="SC081")
        at = item.get("at")
        rows.append([item["name"], item["outcome"], _clean_note(item.get("note")), item.get("source", "session"),
                     item.get("session"), at if isinstance(at, str) else format_ts(at or utcnow()),
                     item.get("event"), item.get("digest") or digests.get(item["name"])])
    if not rows:
        return 0
    db = _open(root)
    try:
        before = db.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        db.execute("BEGIN")
        db.conn.executemany(
            "INSERT INTO outcomes (skill, outcome, note, source, session, at, event, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event) DO NOTHING", rows)
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


def skill_stats(root: Path, window: timedelta | None = None, names: Iterable[str] | None = None,
                digests: dict[str, str] | None = None) -> list[SkillStats]:
    """Per-skill uses, successes and last failure within *window* (None: all time), by name.

    With *digests* (skill -> the content digest the lock certifies now), outcomes recorded
    against other content are left out: a skill that was fixed starts a fresh record.
    """
    from skillctl.clock import format_ts, utcnow

    since = format_ts(utcnow() - window) if window is not None else None
    wanted = set(names) if names is not None else None
    db = _open(root)
    try:
        skills = [r[0] for r in db.execute("SELECT DISTINCT skill FROM outcomes ORDER BY skill").fetchall()]
        result = []
        for skill in skills:
            if wanted is not None and skill not in wanted:
                continue
            where, args = "skill = ?", [skill]
            if since:
                where += " AND at >= ?"
                args.append(since)
            if digests is not None and digests.get(skill):
                where += " AND (digest IS NULL OR digest = ?)"
                args.append(digests[skill])
            uses, ok, bad = db.execute(
                f"SELECT count(*), sum(outcome = 'success'), sum(outcome = 'failure') FROM outcomes WHERE {where}",
                args).fetchone()
            if not uses:
                continue
            last = db.execute(f"SELECT {_COLUMNS} FROM outcomes WHERE {where} AND outcome = 'failure'"
                              " ORDER BY at DESC, id DESC LIMIT 1", args).fetchone()
            result.append(SkillStats(skill, int(uses), int(ok or 0), int(bad or 0), since,
                                     _record(last) if last else None))
        return result
    finally:
        db.close()


def lock_digests(root: Path) -> dict[str, str]:
    """Skill -> certified digest from skills.lock; empty when there is no readable lock."""
    from skillctl.errors import SkillctlError
    from skillctl.lock import read_lock

    try:
        lock = read_lock(Path(root))
    except (SkillctlError, OSError):
        return {}
    return {name: e.digest for name, e in lock.skills.items() if e.digest}


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
    return {s.name: reason for s in skill_stats(root, policy.window, names, digests=lock_digests(root))
            if (reason := judge(s, policy)) is not None}


def _open(root: Path) -> Any:
    from skillctl.state import open_state

    return open_state(Path(root))


def policy_from_config(config: Any) -> OutcomePolicy:
    """The ``outcomes:`` block of skillctl.yaml as a policy (defaults when absent)."""
    from skillctl.vocab import parse_duration

    block = getattr(config, "outcomes", None)
    if block is None:
        return OutcomePolicy()
    return OutcomePolicy(min_uses=block.min_uses, min_success_rate=block.min_success_rate,
                         window=parse_duration(block.window) or OutcomePolicy().window)


# -- finding uses in session files -------------------------------------------------------

_SKILL_MD = re.compile(r"(?:^|[/\s'\"])([a-z0-9]+(?:-[a-z0-9]+)*)/SKILL\.md\b")


@dataclass
class IngestReport:
    """What ``outcomes ingest`` found: uses per session, and what it could not use."""

    sessions: int = 0
    uses: list[dict[str, Any]] = field(default_factory=list)
    added: int = 0
    unknown_skills: dict[str, int] = field(default_factory=dict)
    undecided: int = 0            # sessions that used a skill but whose outcome is unknown
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def skill_uses(session: Any) -> list[tuple[str, Any]]:
    """(skill name, step) for each skill a session used: Claude Code's Skill tool, Hermes'
    skill_view, or any read of a ``NAME/SKILL.md`` (a read tool, or a shell command)."""
    found: list[tuple[str, Any]] = []
    for step in session.steps:
        args = step.arguments if isinstance(step.arguments, dict) else {}
        if step.kind == "skill":
            for key in ("skill", "name", "command", "skill_name"):
                value = args.get(key)
                if isinstance(value, str) and value.strip():
                    name = value.strip().lstrip("/").split()[0].split(":")[-1]
                    if is_skill_name(name):  # ids come from the file: names only
                        found.append((name, step))
                    break
            continue
        texts = [step.command or ""] if step.kind == "shell" else \
            [str(v) for k, v in args.items() if k in ("file_path", "path", "filename", "file")]
        for text in texts:
            for m in _SKILL_MD.finditer(text):
                found.append((m.group(1), step))
    return found


def _when(step: Any, session: Any) -> datetime | None:
    from skillctl.clock import as_utc

    for raw in (getattr(step, "at", None), session.started_at):
        if raw is None:
            continue
        try:
            if isinstance(raw, (int, float)) or re.fullmatch(r"\d+(?:\.\d+)?", str(raw)):
                return datetime.fromtimestamp(float(raw), tz=timezone.utc)
            return as_utc(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))
        except (ValueError, OverflowError, OSError):
            continue
    return None


def ingest(root: Path, paths: Iterable[Path], *, apply: bool = True) -> IngestReport:
    """Record an outcome for every use of a known skill in *paths* (once per session and skill)."""
    from skillctl.clock import format_ts, utcnow
    from skillctl.synth.sessions import read_sessions

    known = set(lock_digests(root)) | _disk_names(root)
    report = IngestReport()
    items: list[dict[str, Any]] = []
    now = utcnow()
    for path in paths:
        try:
            sessions = list(read_sessions(path))
        except InputError as exc:
            report.errors.append(str(exc))
            continue
        for session in sessions:
            report.sessions += 1
            seen: set[str] = set()
            for name, step in skill_uses(session):
                if name in seen:
                    continue
                seen.add(name)
                if name not in known:
                    report.unknown_skills[name] = report.unknown_skills.get(name, 0) + 1
                    continue
                if session.success is None:
                    report.undecided += 1
                    continue
                outcome = "success" if session.success else "failure"
                when = _when(step, session) or now
                use = {"name": name, "outcome": outcome, "source": "session", "session": session.id,
                       "event": f"{session.format.split('-')[0]}:{session.id}:{name}", "at": format_ts(when),
                       "note": f"{session.format} session step {step.index}: {session.outcome_reason}"}
                items.append(use)
                report.uses.append({k: use[k] for k in ("name", "outcome", "session", "at", "note")})
    if apply:
        report.added = record_many(root, items)
    return report


def _disk_names(root: Path) -> set[str]:
    from skillctl.repo import discover_skills

    try:
        return {f.name for f in discover_skills(Path(root))}
    except (InputError, OSError):
        return set()


# -- the policy, applied by schedule -------------------------------------------------------

@dataclass
class Demotions:
    """What ``demote_by_outcomes`` moved (or would move), and the lock commit that recorded it."""

    lines: list[str] = field(default_factory=list)
    commit: str | None = None


def demote_by_outcomes(root: Path, *, apply: bool = True, now: datetime | None = None,
                       policy: OutcomePolicy | None = None) -> Demotions:
    """Move active or stale skills whose record fails the policy to ``failing`` and commit the
    lock. ``outcomes.demote: false`` in skillctl.yaml turns it off."""
    from skillctl.clock import utcnow
    from skillctl.config import load_config
    from skillctl.gitops import commit_paths
    from skillctl.lock import lock_path, lock_transaction, read_lock

    config = load_config(root)
    if not config.outcomes.demote:
        return Demotions()
    policy = policy or policy_from_config(config)
    lock = read_lock(root)
    candidates = [n for n, e in lock.skills.items() if e.status in ("active", "stale")]
    if not candidates:
        return Demotions()
    failing = failing_by_outcomes(root, policy, candidates)
    if not failing or not apply:
        return Demotions([f"{n} {lock.skills[n].status} -> failing ({r})" for n, r in sorted(failing.items())])
    now = now or utcnow()
    out = Demotions()
    with lock_transaction(root) as fresh:
        for name, reason in sorted(failing.items()):
            entry = fresh.skills.get(name)
            if entry is None or entry.status not in ("active", "stale"):
                continue
            fresh.skills[name] = entry.model_copy(update={"status": "failing", "reason": reason, "since": now})
            out.lines.append(f"{name} {entry.status} -> failing ({reason})")
    if out.lines:
        out.commit = commit_paths(root, [lock_path(root)],
                                  "skillctl schedule: demoted by outcomes\n\n" + "\n".join(out.lines))
    return out
