"""OpenAI chat transcripts (any agent built on the SDK) and Responses API items.

Chat: a JSON array of messages, ``{"messages": [...]}``, or JSONL with one message a line;
assistant messages carry ``tool_calls`` (arguments a JSON string) answered by ``role: tool``
messages. Responses: ``function_call`` / ``function_call_output`` items beside ``message`` items.
``from_messages`` is shared with the Hermes reader, whose messages are chat-completions shaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.synth.sessions.model import (
    Session,
    Step,
    command_of,
    excerpt,
    exit_from_text,
    iter_json_lines,
    judge_outcome,
    parse_arguments,
    tool_kind,
)

FORMAT = "openai-chat"
RESPONSES = "openai-responses"
RESPONSE_TYPES = ("function_call", "function_call_output", "reasoning", "custom_tool_call",
                  "custom_tool_call_output", "local_shell_call", "local_shell_call_output")
#: A whole-document JSON file is parsed at once; past this, ask for JSONL (which streams).
MAX_DOCUMENT = 64 * 1024 * 1024


def is_chat_message(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("role") in ("system", "developer", "user", "assistant", "tool") \
        and obj.get("type") in (None, "message")


def is_response_item(obj: Any) -> bool:
    return isinstance(obj, dict) and (obj.get("type") in RESPONSE_TYPES or
                                      (obj.get("type") == "message" and "role" in obj))


def read(path: Path, fmt: str, *, document: bool) -> Session:
    warnings: list[str] = []
    if document:
        if path.stat().st_size > MAX_DOCUMENT:
            raise InputError(f"JSON document over {MAX_DOCUMENT // (1024 * 1024)} MiB; write it as JSONL (one "
                             "message a line) so it can be streamed", path=path, code="SC093")
        try:
            data = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"not valid JSON: {exc}", path=path, code="SC092") from None
        items = _document_items(data)
        if items is None:
            raise InputError("JSON document holds no messages or items", path=path, code="SC092")
    else:
        items = (obj for _, obj in iter_json_lines(path, warnings))
    session = Session(format=fmt, id=path.stem, path=str(path), warnings=warnings)
    if fmt == RESPONSES:
        from_items(session, items)
    else:
        from_messages(session, items)
    judge_outcome(session)
    return session


def _document_items(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("messages", "input", "items", "output"):
            if isinstance(data.get(key), list):
                items = list(data[key])
                if key == "input" and isinstance(data.get("output"), list):
                    items += data["output"]
                return items
    return None


def from_messages(session: Session, messages: Iterable[Any], *, tool_result: Any = None) -> None:
    """Fill *session* from chat messages; *tool_result* parses a tool message's content."""
    pending: dict[str, Step] = {}
    answer = ""
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        role = msg.get("role")
        content = _text(msg.get("content"))
        if role == "user" and content.strip():
            if not session.task:
                session.task = content.strip()
            else:
                session.followups.append(content.strip())
        elif role == "assistant":
            calls = msg.get("tool_calls")
            if isinstance(calls, str):
                try:
                    calls = json.loads(calls)
                except ValueError:
                    calls = None
            if isinstance(calls, list) and calls:
                for call in calls:
                    _call(session, pending, call, msg.get("timestamp"))
                answer = ""
            elif content.strip():
                answer = content.strip()
        elif role == "tool":
            step = pending.pop(str(msg.get("tool_call_id") or ""), None)
            if step is None and msg.get("tool_name"):  # some logs omit ids: match by name, oldest first
                step = next((s for s in pending.values() if s.tool == msg.get("tool_name")), None)
                if step is not None:
                    pending.pop(step.call_id, None)
            if step is not None:
                (tool_result or _plain_result)(step, msg.get("content"))
    session.final_answer = answer


def _call(session: Session, pending: dict[str, Step], call: Any, at: Any) -> None:
    if not isinstance(call, dict):
        return
    fn = call.get("function") if isinstance(call.get("function"), dict) else call
    name = str(fn.get("name") or "")
    args = parse_arguments(fn.get("arguments"))
    step = Step(index=len(session.steps) + 1, tool=name, kind=tool_kind(name), arguments=args,
                call_id=str(call.get("id") or call.get("call_id") or f"step-{len(session.steps) + 1}"),
                at=str(at) if at else None)
    if step.kind == "shell":
        step.command = command_of(args)
    session.steps.append(step)
    pending[step.call_id] = step


def _plain_result(step: Step, content: Any) -> None:
    """A tool message: plain text, or JSON ``{output|stdout, exit_code|returncode, error}``."""
    text = _text(content)
    value: Any = None
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
    set_result(step, value if isinstance(value, dict) else text)


def set_result(step: Step, value: Any) -> None:
    code: int | None = None
    error = False
    if isinstance(value, dict):
        text = value.get("output", value.get("stdout", value.get("content", "")))
        text = text if isinstance(text, str) else json.dumps(text)
        for key in ("exit_code", "returncode", "exitCode", "status_code"):
            if isinstance(value.get(key), int) and not isinstance(value.get(key), bool):
                code = value[key]
                break
        err = value.get("error") or value.get("stderr")
        if isinstance(err, str) and err.strip():
            error = code is None or code != 0
            text = f"{text}\n{err}" if text else err
    else:
        text = value if isinstance(value, str) else ""
        code = exit_from_text(text)
        error = text.lower().startswith(("error:", "error ", "traceback"))
    step.output = excerpt(text)
    if step.kind == "shell":
        step.exit_code = code if code is not None else (1 if error else 0)
        step.ok = step.exit_code == 0
    else:
        step.ok = not error and (code is None or code == 0)


def from_items(session: Session, items: Iterable[Any]) -> None:
    """Responses API items: calls and outputs linked by ``call_id``."""
    pending: dict[str, Step] = {}
    answer = ""
    for item in items:
        if not isinstance(item, dict):
            continue
        t = item.get("type")
        if t == "message" or (t is None and "role" in item):
            text = _text(item.get("content"))
            if item.get("role") == "user" and text.strip():
                if not session.task:
                    session.task = text.strip()
                else:
                    session.followups.append(text.strip())
            elif item.get("role") == "assistant" and text.strip():
                answer = text.strip()
        elif t in ("function_call", "custom_tool_call", "local_shell_call"):
            if t == "local_shell_call":
                action = item.get("action") if isinstance(item.get("action"), dict) else {}
                item = {**item, "name": "local_shell_call", "arguments": {"command": action.get("command")}}
            elif t == "custom_tool_call":
                item = {**item, "arguments": {"input": excerpt(item.get("input"))}}
            _call(session, pending, {"call_id": item.get("call_id") or item.get("id"), "name": item.get("name"),
                                     "arguments": item.get("arguments")}, None)
            answer = ""
        elif t in ("function_call_output", "custom_tool_call_output", "local_shell_call_output"):
            step = pending.pop(str(item.get("call_id") or ""), None)
            if step is not None:
                _plain_result(step, item.get("output"))
    session.final_answer = answer


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return "\n".join(parts)
    return ""
