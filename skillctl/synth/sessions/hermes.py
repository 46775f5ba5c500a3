"""Hermes Agent sessions: ``$HERMES_HOME/state.db`` and ``hermes sessions export`` JSONL.

The database has ``sessions`` (id, source, model, cwd, end_reason, …) and ``messages``
(chat-completions shaped: ``tool_calls`` as JSON text, a tool message's ``content`` a JSON
string ``{"output", "exit_code", "error"}`` to parse again). Only ``active = 1`` rows count —
compaction keeps the replaced rows with ``active = 0`` — read in id order. The export writes
one JSON line per session: the session row plus its ``messages``. Hermes masks some secrets
in stored output and not others, so nothing here trusts its masking (see ``redact``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.synth.sessions.model import Session, iter_json_lines, judge_outcome
from skillctl.synth.sessions.openai_chat import from_messages

DB_FORMAT = "hermes-db"
EXPORT_FORMAT = "hermes-export"
#: end_reason values that mean the task did not finish.
FAILED_ENDS = {"error", "max_iterations", "interrupted", "timeout", "failed", "budget_exhausted", "aborted",
               "cancelled", "crash"}


def looks_like_export(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("messages"), list) and (
        "end_reason" in obj or "source" in obj or "tool_call_count" in obj or "system_prompt" in obj)


def read_export(path: Path) -> Iterator[Session]:
    warnings: list[str] = []
    for lineno, obj in iter_json_lines(path, warnings):
        if not looks_like_export(obj):
            warnings.append(f"{path}:{lineno}: not a Hermes session export record, skipped")
            continue
        messages = [m for m in obj["messages"] if isinstance(m, dict) and m.get("active", 1) in (1, True)]
        yield _session(obj, messages, path, EXPORT_FORMAT, warnings)
        warnings = []


def read_db(path: Path) -> Iterator[Session]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open Hermes state.db: {exc}", path=path, code="SC094") from None
    try:
        conn.row_factory = sqlite3.Row
        try:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(messages)")}
            rows = conn.execute("SELECT * FROM sessions ORDER BY started_at, id" if "started_at" in {
                r[1] for r in conn.execute("PRAGMA table_info(sessions)")} else "SELECT * FROM sessions ORDER BY id"
            ).fetchall()
        except sqlite3.Error as exc:
            raise InputError(f"not a Hermes state.db: {exc}", path=path, code="SC094") from None
        if not cols:
            raise InputError("not a Hermes state.db: no messages table", path=path, code="SC094")
        active = " AND active = 1" if "active" in cols else ""
        for row in rows:
            meta = dict(row)
            cur = conn.execute(f"SELECT * FROM messages WHERE session_id = ?{active} ORDER BY id", [meta.get("id")])
            yield _session(meta, (dict(m) for m in cur), path, DB_FORMAT, [])
    finally:
        conn.close()


def _session(meta: dict[str, Any], messages: Any, path: Path, fmt: str, warnings: list[str]) -> Session:
    session = Session(format=fmt, id=str(meta.get("id") or path.stem), path=str(path), warnings=list(warnings))
    session.cwd = meta.get("cwd") if isinstance(meta.get("cwd"), str) else None
    started = meta.get("started_at") or meta.get("created_at")
    session.started_at = str(started) if started is not None else None
    from_messages(session, messages)
    end = meta.get("end_reason")
    if isinstance(end, str) and end:
        session.ended = end
        if end.lower() in FAILED_ENDS:
            session.success, session.outcome_reason = False, f"hermes end_reason {end}"
    judge_outcome(session)
    return session
