"""One normalized session, whatever agent wrote it: task, steps, corrections, answer, outcome.

Every reader (one module per agent format) streams its file and builds a ``Session``; drafting,
outcome ingest and proposals only ever see this model. Tool output is kept only as a capped
excerpt: it is evidence of what happened (exit status, the confirming output of a check), never
text that may flow into a skill as instructions.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillctl.errors import InputError

#: Outputs are kept head + tail up to this many characters; the middle is elided.
EXCERPT = 2000
#: A single JSON line past this is refused: no legitimate record needs it, and it bounds memory.
MAX_LINE = 64 * 1024 * 1024

SHELL_TOOLS = {"bash", "exec_command", "shell", "shell_command", "local_shell_call", "terminal",
               "run_command", "execute_command", "run_shell_command", "container.exec"}
READ_TOOLS = {"read", "read_file", "view", "cat_file", "skill_view"}
WRITE_TOOLS = {"write", "edit", "multiedit", "apply_patch", "write_file", "patch", "str_replace_based_edit_tool",
               "notebookedit", "skill_manage"}
SKILL_TOOLS = {"skill"}


def tool_kind(name: str) -> str:
    """shell | read | write | skill | other: what drafting needs to know about a tool call."""
    low = name.lower()
    if low in SHELL_TOOLS:
        return "shell"
    if low in SKILL_TOOLS:
        return "skill"
    if low in READ_TOOLS:
        return "read"
    if low in WRITE_TOOLS:
        return "write"
    return "other"


def excerpt(text: Any, limit: int = EXCERPT) -> str:
    if not isinstance(text, str):
        text = "" if text is None else json.dumps(text, ensure_ascii=False)[: limit * 2]
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    return text[:head] + f"\n…[{len(text) - limit} chars elided]…\n" + text[-(limit - head):]


@dataclass
class Step:
    """One tool call and what came back."""

    index: int
    tool: str                       # the agent's own tool name (Bash, exec_command, terminal…)
    kind: str                       # shell | read | write | skill | other
    arguments: dict[str, Any]
    call_id: str = ""
    command: str | None = None      # the shell command line, for shell tools
    output: str = ""                # capped excerpt; data, never instructions
    exit_code: int | None = None
    ok: bool | None = None          # None: no result was recorded (the session ended first)
    sidechain: bool = False
    at: str | None = None

    @property
    def program(self) -> str:
        """The first program of the command line (env assignments and wrappers skipped)."""
        progs = self.programs
        return progs[0] if progs else ""

    @property
    def programs(self) -> list[str]:
        """Every program of a pipeline or list (``a | b && c``), for matching a retry to its failure."""
        if not self.command:
            return []
        out = []
        for part in re.split(r"\|\|?|&&|;|\n", self.command):
            try:
                words = shlex.split(part, posix=True)
            except ValueError:
                words = part.split()
            for w in words:
                if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w) and w not in ("sudo", "env", "time", "command"):
                    out.append(w.rsplit("/", 1)[-1])
                    break
        return out


@dataclass
class Correction:
    """A step that failed and the later step that did the same job and worked."""

    failed: Step
    fixed: Step


@dataclass
class Session:
    """What an agent was asked, what it did, and how it ended."""

    format: str
    id: str
    path: str
    task: str = ""
    steps: list[Step] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)  # later human prompts in the same session
    final_answer: str = ""
    success: bool | None = None
    outcome_reason: str = ""
    cwd: str | None = None
    started_at: str | None = None
    warnings: list[str] = field(default_factory=list)
    ended: str | None = None  # the agent's own end marker (end_reason, task_complete…), if any

    @property
    def tool_calls(self) -> int:
        return len(self.steps)

    @property
    def main_steps(self) -> list[Step]:
        return [s for s in self.steps if not s.sidechain]

    @property
    def corrections(self) -> list[Correction]:
        return find_corrections(self.main_steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "id": self.id, "path": self.path, "task": self.task,
            "tool_calls": self.tool_calls, "success": self.success, "outcome_reason": self.outcome_reason,
            "final_answer": self.final_answer, "followups": self.followups, "cwd": self.cwd,
            "warnings": self.warnings,
            "steps": [{"index": s.index, "tool": s.tool, "kind": s.kind, "command": s.command,
                       "arguments": s.arguments, "exit_code": s.exit_code, "ok": s.ok,
                       "sidechain": s.sidechain, "output": s.output} for s in self.steps],
            "corrections": [{"failed": c.failed.index, "fixed": c.fixed.index} for c in self.corrections],
        }


def find_corrections(steps: list[Step]) -> list[Correction]:
    """Pair each failed step with the next successful step of the same tool and program.

    An agent that hits an error usually retries the same program with other arguments; the
    pair is the pitfall (what failed) and the fix (what to do instead). A failed step with no
    later success of the same program stays uncorrected.
    """
    out: list[Correction] = []
    for i, step in enumerate(steps):
        if step.ok is not False:
            continue
        for later in steps[i + 1:]:
            if later.kind != step.kind or later.ok is not True:
                continue
            if step.kind != "shell":
                same = later.tool == step.tool
            else:  # the same program retried, or the very next command using what failed
                same = bool(later.program) and later.program == step.program
                nxt = next((s for s in steps[i + 1:] if s.kind == "shell"), None)
                same = same or (later is nxt and bool(set(later.programs) & set(step.programs)))
            if same:
                out.append(Correction(step, later))
                break
    return out


_FAILURE_WORDS = re.compile(
    r"\b(i (?:was|am) (?:not |un)able|i could(?:n't| not)|unable to (?:complete|finish|do)|"
    r"(?:task|attempt) failed|i failed|did not succeed|could not be completed|giving up|i can't complete)\b",
    re.IGNORECASE)


def judge_outcome(session: Session) -> None:
    """Decide success when the format has no explicit verdict: a final answer, no unresolved
    failure in the last steps, and no admission of failure in the answer."""
    if session.success is not None:
        return
    steps = session.main_steps
    if not session.final_answer.strip() and steps and steps[-1].ok is None:
        session.success, session.outcome_reason = False, "the session ended during a tool call"
        return
    if _FAILURE_WORDS.search(session.final_answer):
        session.success, session.outcome_reason = False, "the final answer says the task failed"
        return
    corrected = {c.failed.index for c in find_corrections(steps)}
    tail = [s for s in steps if s.kind == "shell" and s.ok is not None][-1:]
    if tail and tail[0].ok is False and tail[0].index not in corrected:
        session.success, session.outcome_reason = False, f"the last command (step {tail[0].index}) failed"
        return
    if not session.final_answer.strip():
        session.success, session.outcome_reason = None, "no final answer"
        return
    session.success, session.outcome_reason = True, "final answer given and no unresolved failure"


EXIT_PATTERNS = (
    re.compile(r"(?:Process exited with code|Exit code:?|exit code:?|exited with code|exit status:?)\s*(-?\d+)"),
)


def exit_from_text(text: str) -> int | None:
    for pattern in EXIT_PATTERNS:
        m = pattern.search(text[:400])
        if m:
            return int(m.group(1))
    return None


def command_of(arguments: Any) -> str | None:
    """The command line of a shell tool call, whichever spelling the agent used."""
    if not isinstance(arguments, dict):
        return None
    for key in ("command", "cmd", "script", "commands"):
        value = arguments.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            shells = ("bash", "sh", "zsh", "/bin/bash", "/bin/sh")
            if len(value) >= 3 and value[0] in shells and value[1] in ("-c", "-lc"):
                return value[2]
            return shlex.join(value)
    return None


def parse_arguments(raw: Any) -> dict[str, Any]:
    """Tool arguments arrive as a JSON string (OpenAI, Hermes, Codex) or an object (Claude Code)."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {"raw": raw[:EXCERPT]}
        return value if isinstance(value, dict) else {"value": value}
    return {}


def iter_json_lines(path: Path, warnings: list[str]) -> Iterator[tuple[int, Any]]:
    """(line number, object) for each JSON line; a bad line is skipped with a warning.

    Streams in binary so a 200 MB file costs one line of memory at a time. A truncated last
    line (an agent killed mid-write) is the common case and is reported as such.
    """
    with open(path, "rb") as fh:
        lineno = 0
        pending: tuple[int, bytes] | None = None
        for raw in fh:
            lineno += 1
            if len(raw) > MAX_LINE:
                warnings.append(f"{path}:{lineno}: line over {MAX_LINE // (1024 * 1024)} MiB skipped")
                continue
            if pending is not None:
                obj = _decode(pending, path, warnings, last=False)
                if obj is not None:
                    yield pending[0], obj
            pending = (lineno, raw)
        if pending is not None:
            obj = _decode(pending, path, warnings, last=True)
            if obj is not None:
                yield pending[0], obj


def _decode(item: tuple[int, bytes], path: Path, warnings: list[str], *, last: bool) -> Any:
    lineno, raw = item
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        what = "truncated last line ignored" if last and not raw.endswith(b"\n") else "line is not JSON, skipped"
        warnings.append(f"{path}:{lineno}: {what}")
        return None


def require_file(path: Path) -> None:
    if not path.exists():
        raise InputError("session file does not exist", path=path, code="SC090")
    if not path.is_file():
        raise InputError("session path is not a file", path=path, code="SC090")
    if path.stat().st_size == 0:
        raise InputError("session file is empty", path=path, code="SC091")
