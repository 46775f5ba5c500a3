"""Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl``.

Each line is ``{timestamp, type, payload}``. Everything appears twice — as a ``response_item``
(what the model saw) and as an ``event_msg`` (what the UI showed) — so steps come from the
``response_item`` stream only, and ``event_msg`` contributes just what the other stream lacks:
the clean exit code of a command and the ``task_complete`` marker. The shell tool has had
several spellings (``exec_command {cmd}``, ``shell {command: argv}``, ``shell_command``,
``local_shell_call``); ``apply_patch`` is a ``custom_tool_call``. A ``compacted`` record's
``replacement_history`` repeats earlier items and is not read as new work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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

FORMAT = "codex"
LINE_TYPES = ("session_meta", "turn_context", "world_state", "response_item", "event_msg", "compacted",
              "token_usage_record")
_PREAMBLES = ("<environment_context>", "<user_instructions>", "# AGENTS.md", "<permissions", "<INSTRUCTIONS>")


def looks_like(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("type") in LINE_TYPES and "payload" in obj


def read(path: Path) -> Session:
    session = Session(format=FORMAT, id=path.stem, path=str(path))
    pending: dict[str, Step] = {}
    exit_codes: dict[str, int] = {}
    answer = ""
    for _, obj in iter_json_lines(path, session.warnings):
        if not isinstance(obj, dict) or not isinstance(obj.get("payload"), dict):
            continue
        kind, p, at = obj.get("type"), obj["payload"], obj.get("timestamp")
        if kind == "session_meta":
            session.id = str(p.get("id") or session.id)
            session.cwd = p.get("cwd") if isinstance(p.get("cwd"), str) else session.cwd
            session.started_at = str(p.get("timestamp") or at or "") or None
        elif kind == "response_item":
            answer = _item(session, p, pending, at, answer)
        elif kind == "event_msg":
            _event(session, p, exit_codes)
    for call_id, code in exit_codes.items():
        step = next((s for s in session.steps if s.call_id == call_id), None)
        if step is not None:
            step.exit_code, step.ok = code, code == 0
    session.final_answer = session.final_answer or answer
    judge_outcome(session)
    return session


def _item(session: Session, p: dict[str, Any], pending: dict[str, Step], at: Any, answer: str) -> str:
    t = p.get("type")
    if t == "message":
        text = _text(p.get("content"))
        role = p.get("role")
        if role == "user" and text.strip() and not text.lstrip().startswith(_PREAMBLES):
            if not session.task:
                session.task = text.strip()
            else:
                session.followups.append(text.strip())
        elif role == "assistant" and text.strip():
            return text.strip()
        return answer
    if t in ("function_call", "custom_tool_call", "local_shell_call"):
        name = str(p.get("name") or ("local_shell_call" if t == "local_shell_call" else ""))
        if t == "local_shell_call":
            action = p.get("action") if isinstance(p.get("action"), dict) else {}
            args: dict[str, Any] = {"command": action.get("command"), "workdir": action.get("working_directory")}
        elif t == "custom_tool_call":
            args = {"input": excerpt(p.get("input"))}
        else:
            args = parse_arguments(p.get("arguments"))
        call_id = str(p.get("call_id") or p.get("id") or "")
        step = Step(index=len(session.steps) + 1, tool=name, kind=tool_kind(name), arguments=args,
                    call_id=call_id, at=str(at) if at else None)
        if step.kind == "shell":
            step.command = command_of(args)
        session.steps.append(step)
        pending[call_id] = step
        return ""  # a tool call after text means that text was not the final answer
    if t in ("function_call_output", "custom_tool_call_output", "local_shell_call_output"):
        step = pending.pop(str(p.get("call_id") or ""), None)
        if step is not None:
            _output(step, p.get("output"))
    return answer


def _output(step: Step, raw: Any) -> None:
    """Outputs are text with a header, JSON ``{output, metadata: {exit_code}}`` or ``{content, success}``."""
    text, code, success = "", None, None
    value: Any = raw
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
    if isinstance(value, dict):
        text = str(value.get("output") or value.get("content") or "")
        meta = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
        if isinstance(meta.get("exit_code"), int):
            code = meta["exit_code"]
        if isinstance(value.get("success"), bool):
            success = value["success"]
    elif isinstance(value, str):
        text = value
    if code is None:
        code = exit_from_text(text)
    head, sep, body = text.partition("\nOutput:\n")  # exec_command's header: chunk id, wall time, exit
    if sep and exit_from_text(head) is not None:
        text = body
    step.output = excerpt(text)
    if step.kind == "shell":
        step.exit_code = code if code is not None else (0 if success is not False else 1)
        step.ok = step.exit_code == 0
    else:
        step.ok = success if success is not None else not text.lower().startswith(("error", "failed"))


def _event(session: Session, p: dict[str, Any], exit_codes: dict[str, int]) -> None:
    t = p.get("type")
    if t == "task_complete":
        session.ended = "task_complete"
        if isinstance(p.get("last_agent_message"), str) and p["last_agent_message"].strip():
            session.final_answer = p["last_agent_message"].strip()
    elif t in ("exec_command_end",) and isinstance(p.get("exit_code"), int):
        exit_codes[str(p.get("call_id") or "")] = p["exit_code"]
    elif t == "item_completed":
        item = p.get("item") if isinstance(p.get("item"), dict) else {}
        if item.get("type") in ("CommandExecution", "command_execution") and isinstance(item.get("exit_code"), int):
            key = str(item.get("call_id") or item.get("id") or "")
            exit_codes[key] = item["exit_code"]
    elif t in ("turn_aborted", "error", "stream_error"):
        session.ended = str(t)
        session.success, session.outcome_reason = False, f"codex recorded {t}"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text")) for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
    return ""
