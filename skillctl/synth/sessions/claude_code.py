"""Claude Code project sessions: ``~/.claude/projects/<cwd-slug>/<session-id>.jsonl``.

What a reader must survive (observed with Claude Code 2.x): one model reply is split over
several ``assistant`` lines sharing ``message.id`` (text, tool_use, thinking each its own line);
tool results are ``user`` records holding ``tool_result`` blocks, so not every ``user`` record is
a prompt (nor are ``isMeta`` records, ``<command-name>`` records or the ``isCompactSummary``
record that ``/compact`` writes after a ``compact_boundary``); subagents write their own files
under ``<session-id>/subagents/`` and old versions inline them with ``isSidechain: true``.
Hermes' ``--format trace`` export uses the same shape (``version: "hermes-agent"``).
"""

from __future__ import annotations

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
    tool_kind,
)

FORMAT = "claude-code"
RECORD_TYPES = ("user", "assistant", "attachment", "queue-operation", "last-prompt", "mode", "system", "summary",
                "file-history-snapshot")
_NOT_PROMPTS = ("<command-name>", "<command-message>", "<local-command-stdout>", "<local-command-",
                "Caveat: The messages below", "[Request interrupted")


def looks_like(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("type") in RECORD_TYPES and (
        "sessionId" in obj or "parentUuid" in obj or "uuid" in obj or obj.get("type") == "summary")


def read(path: Path) -> Session:
    session = Session(format=FORMAT, id=path.stem, path=str(path))
    state = _State(session)
    for _, obj in iter_json_lines(path, session.warnings):
        state.feed(obj, sidechain=bool(obj.get("isSidechain")) if isinstance(obj, dict) else False)
    for sub in sorted((path.parent / path.stem / "subagents").glob("*.jsonl")):
        for _, obj in iter_json_lines(sub, session.warnings):
            state.feed(obj, sidechain=True)
    state.finish()
    judge_outcome(session)
    return session


class _State:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.pending: dict[str, Step] = {}
        self.answer_id: str | None = None
        self.answer: list[str] = []
        self.tool_after_answer = False

    def feed(self, obj: Any, *, sidechain: bool) -> None:
        if not isinstance(obj, dict):
            return
        kind = obj.get("type")
        if obj.get("sessionId") and self.s.id == Path(self.s.path).stem and not sidechain:
            self.s.id = str(obj["sessionId"])
        if obj.get("cwd") and not self.s.cwd:
            self.s.cwd = str(obj["cwd"])
        if obj.get("timestamp") and not self.s.started_at:
            self.s.started_at = str(obj["timestamp"])
        message = obj.get("message")
        if not isinstance(message, dict):
            return
        content = message.get("content")
        if kind == "assistant":
            self._assistant(message, content, sidechain, obj.get("timestamp"))
        elif kind == "user":
            self._user(obj, content, sidechain)

    def _assistant(self, message: dict[str, Any], content: Any, sidechain: bool, at: Any) -> None:
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use":
                name = str(block.get("name") or "")
                args = block.get("input") if isinstance(block.get("input"), dict) else {}
                step = Step(index=len(self.s.steps) + 1, tool=name, kind=tool_kind(name), arguments=args,
                            call_id=str(block.get("id") or ""), sidechain=sidechain,
                            at=str(at) if at else None)
                if step.kind == "shell":
                    step.command = command_of(args)
                self.s.steps.append(step)
                self.pending[step.call_id] = step
                if not sidechain:
                    self.tool_after_answer = True
            elif block.get("type") == "text" and not sidechain and isinstance(block.get("text"), str):
                mid = str(message.get("id") or "")
                if mid != self.answer_id or self.tool_after_answer:
                    self.answer_id, self.answer, self.tool_after_answer = mid, [], False
                self.answer.append(block["text"])

    def _user(self, obj: dict[str, Any], content: Any, sidechain: bool) -> None:
        if isinstance(content, list):
            texts = []
            for block in content:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_result":
                    self._result(block, obj.get("toolUseResult"))
                elif block.get("type") == "text" and isinstance(block.get("text"), str):
                    texts.append(block["text"])
            text = "\n".join(texts)
        else:
            text = content if isinstance(content, str) else ""
        if sidechain or obj.get("isMeta") or obj.get("isCompactSummary") or not text.strip():
            return
        if text.lstrip().startswith(_NOT_PROMPTS):
            return
        if not self.s.task:
            self.s.task = text.strip()
        else:
            self.s.followups.append(text.strip())

    def _result(self, block: dict[str, Any], extra: Any) -> None:
        step = self.pending.pop(str(block.get("tool_use_id") or ""), None)
        if step is None:
            return
        raw = block.get("content")
        if isinstance(raw, list):
            text = "\n".join(b.get("text", "") for b in raw if isinstance(b, dict) and isinstance(b.get("text"), str))
        else:
            text = raw if isinstance(raw, str) else ""
        if isinstance(extra, dict) and isinstance(extra.get("stdout"), str) and not text:
            text = extra["stdout"]
        step.output = excerpt(text)
        error = bool(block.get("is_error"))
        if step.kind == "shell":
            code = exit_from_text(text) if error else None
            step.exit_code = code if code is not None else (1 if error else 0)
            if isinstance(extra, dict) and extra.get("interrupted"):
                error = True
        step.ok = not error

    def finish(self) -> None:
        self.s.final_answer = "\n".join(self.answer).strip() if not self.tool_after_answer else ""
