"""Session readers: detect an agent's session format and stream it into ``Session`` records.

One module per format (``claude_code``, ``codex``, ``hermes``, ``openai_chat``), all yielding
the model in ``model``. Detection looks at the first bytes (SQLite magic) and the first few
JSON lines, never at the file name: session files get renamed, copied and attached to issues.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from skillctl.errors import InputError
from skillctl.synth.sessions import claude_code, codex, hermes, openai_chat
from skillctl.synth.sessions.model import Correction, Session, Step, iter_json_lines, require_file

__all__ = ["FORMATS", "Correction", "Session", "Step", "detect_format", "read_sessions"]

#: Known formats, as ``detect_format`` names them.
FORMATS = ("claude-code", "codex", "hermes-db", "hermes-export", "openai-chat", "openai-responses")
KNOWN = ("Claude Code project JSONL, Codex CLI rollout JSONL, Hermes Agent state.db or `hermes sessions export` "
         "JSONL, OpenAI chat messages (JSON array or JSONL), OpenAI Responses items")
_PEEK_LINES = 20


def detect_format(path: Path) -> tuple[str, bool]:
    """(format, whole-document JSON?) for *path*; InputError naming the known formats otherwise."""
    path = Path(path)
    require_file(path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(b"SQLite format 3\x00"):
        return hermes.DB_FORMAT, False
    warnings: list[str] = []
    seen = 0
    for _, obj in iter_json_lines(path, warnings):
        seen += 1
        fmt = _classify(obj)
        if fmt:
            return fmt, False
        if seen >= _PEEK_LINES:
            break
    if seen == 0:
        fmt = _classify_document(path)
        if fmt:
            return fmt, True
        if warnings and not _only_whitespace(path):
            raise InputError(f"not JSON, JSONL or SQLite; known formats: {KNOWN}", path=path, code="SC092")
        raise InputError("session file holds no records", path=path, code="SC091")
    raise InputError(f"unknown session format; known formats: {KNOWN}", path=path, code="SC092")


def _classify(obj: object) -> str | None:
    if codex.looks_like(obj):
        return codex.FORMAT
    if claude_code.looks_like(obj):
        return claude_code.FORMAT
    if hermes.looks_like_export(obj):
        return hermes.EXPORT_FORMAT
    if openai_chat.is_chat_message(obj) and not (isinstance(obj, dict) and obj.get("type") == "message"):
        return openai_chat.FORMAT
    if openai_chat.is_response_item(obj):
        return openai_chat.RESPONSES
    return None


def _classify_document(path: Path) -> str | None:
    if path.stat().st_size > openai_chat.MAX_DOCUMENT:
        return None
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        return None
    items = openai_chat._document_items(data)
    if not items:
        return None
    for obj in items[:_PEEK_LINES]:
        if openai_chat.is_response_item(obj) and isinstance(obj, dict) and obj.get("type"):
            return openai_chat.RESPONSES
    if any(openai_chat.is_chat_message(obj) for obj in items[:_PEEK_LINES]):
        return openai_chat.FORMAT
    return None


def _only_whitespace(path: Path) -> bool:
    with open(path, "rb") as fh:
        return not fh.read(4096).strip()


def read_sessions(path: Path | str, fmt: str | None = None) -> Iterator[Session]:
    """Every session in *path* (a Hermes database or export may hold many; other files one)."""
    path = Path(path)
    document = False
    if fmt is None:
        fmt, document = detect_format(path)
    else:
        require_file(path)
        if fmt not in FORMATS:
            raise InputError(f"unknown session format {fmt!r}; known: {', '.join(FORMATS)}", code="SC092")
    if fmt == claude_code.FORMAT:
        yield claude_code.read(path)
    elif fmt == codex.FORMAT:
        yield codex.read(path)
    elif fmt == hermes.DB_FORMAT:
        yield from hermes.read_db(path)
    elif fmt == hermes.EXPORT_FORMAT:
        yield from hermes.read_export(path)
    else:
        yield openai_chat.read(path, fmt, document=document)
