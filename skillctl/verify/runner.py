"""Run one verification check in the sandbox and judge it.

A check passes when it exits 0 within its timeout and, if an ``output`` block names it, its
stdout matches (docs/DESIGN.md, "Skill format"). Everything else gets a one-line reason a human can act on — it ends
up in the lock and in the commit message of a demotion — plus the tails of both streams.
A check that cannot be judged at all (no id, unsupported language, a timeout of 0) is an
``error``, never a crash and never a pass.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from skillctl import sandbox
from skillctl.model import CHECK_ATTRIBUTES, Check
from skillctl.sandbox import Limits, SandboxResult

MAX_TIMEOUT = 3600.0
TAIL_CHARS = 2000
ELLIPSIS = "..."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

CheckStatus = Literal["pass", "fail", "error"]


class CheckResult(BaseModel):
    """The verdict on one check, with enough evidence to debug it without re-running."""

    id: str
    status: CheckStatus
    reason: str
    line: int | None = None
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    duration: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    isolation: str | None = None
    isolation_detail: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def interpreter_argv(language: str, code: str) -> list[str] | None:
    """How each supported language runs; ``-e`` so a failing line fails the check."""
    if language == "bash":
        return ["bash", "--noprofile", "--norc", "-e", "-c", code]
    if language == "sh":
        return ["sh", "-e", "-c", code]
    if language == "python":
        return [sys.executable, "-c", code]
    return None


def problems(check: Check) -> str | None:
    """Why a check cannot be run as written, or None. Mirrors validate's SK22x rules."""
    if not check.id:
        return f"{check.language} block at line {check.line} has no id: add {{check=NAME}}"
    unknown = sorted(set(check.attributes) - set(CHECK_ATTRIBUTES))
    if unknown:
        return f"unknown attribute(s) {', '.join(unknown)} (known: {', '.join(CHECK_ATTRIBUTES)})"
    raw = check.attributes.get("timeout")
    if raw is not None:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 < value <= MAX_TIMEOUT:
            return f"timeout {raw!r} must be a number of seconds between 0 and {MAX_TIMEOUT:g}"
    if check.attributes.get("network", "false").lower() not in ("true", "false"):
        return f"network must be true or false, not {check.attributes['network']!r}"
    bad_env = [name for name in check.env if not _ENV_NAME.match(name)]
    if bad_env:
        return f"env names must be variable names: {', '.join(bad_env)}"
    return None


def run_check(
    check: Check,
    folder: Path,
    *,
    default_timeout: float = 60.0,
    limits: Limits | None = None,
    require_sandbox: bool = False,
    hide: tuple[Path, ...] = (),
    backend: sandbox.Backend = "auto",
) -> CheckResult:
    """Run *check* against a scratch copy of *folder*. SandboxError/InputError propagate."""
    return run_checks([check], folder, default_timeout=default_timeout, limits=limits,
                      require_sandbox=require_sandbox, hide=hide, backend=backend)[0]


def run_checks(
    checks: list[Check],
    folder: Path,
    *,
    default_timeout: float = 60.0,
    limits: Limits | None = None,
    require_sandbox: bool = False,
    hide: tuple[Path, ...] = (),
    backend: sandbox.Backend = "auto",
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the checks of ONE skill, in as few sandboxes as their capabilities allow.

    Checks that ask for the same network setting and the same host variables share a sandbox
    (one start-up instead of one per check); a check given a secret never shares a sandbox with
    a check that was not. Results come back in the order of *checks*.
    """
    base = limits or Limits()
    results: list[CheckResult | None] = [None] * len(checks)
    groups: dict[tuple[bool, tuple[str, ...]], list[tuple[int, Check, list[str], Limits]]] = {}
    for i, check in enumerate(checks):
        name = check.id or f"line-{check.line}"
        problem = problems(check)
        argv = interpreter_argv(check.language, check.code)
        if problem is None and argv is None:
            problem = f"unsupported language {check.language!r} (supported: bash, sh, python)"
        if problem is None and argv and shutil.which(argv[0]) is None:
            problem = f"{argv[0]} not found on PATH"
        if problem is not None or argv is None:
            results[i] = CheckResult(id=name, status="error", reason=problem or "cannot run", line=check.line)
            if on_result:
                on_result(results[i])  # type: ignore[arg-type]
            continue
        timeout = float(check.attributes["timeout"]) if "timeout" in check.attributes else default_timeout
        key = (check.network, tuple(sorted(set(check.env))))
        groups.setdefault(key, []).append((i, check, argv, dataclasses.replace(base, timeout=timeout)))
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', sandbox.DEFAULT_PATH)}"
    for (network, names), members in groups.items():
        env = {"PATH": path, **{k: os.environ[k] for k in names if k in os.environ}}
        commands = [sandbox.Command(argv, run_limits.timeout, env) for _i, _c, argv, run_limits in members]

        def done(j: int, result: SandboxResult, members: list = members) -> None:
            i, check, _argv, run_limits = members[j]
            results[i] = judge(check.id or f"line-{check.line}", check, result, run_limits)
            if on_result:
                on_result(results[i])  # type: ignore[arg-type]

        sandbox.run_batch(commands, folder, limits=base, network=network, hide=hide,
                          require_sandbox=require_sandbox, backend=backend, on_result=done)
    return [r for r in results if r is not None]


def judge(name: str, check: Check, result: SandboxResult, limits: Limits) -> CheckResult:
    """Turn what the sandbox saw into pass/fail and a reason."""
    status: CheckStatus = "fail"
    if result.error:
        status, reason = "error", result.error
    elif result.timed_out:
        reason = f"timed out after {limits.timeout:g}s"
    elif result.signal is not None:
        reason = f"killed by {_signame(result.signal)}{_limit_hint(result.signal, result, limits)}"
    elif result.exit_code != 0:
        code = result.exit_code or 0
        sig = code - 128 if 128 < code < 128 + 65 else None  # shells and bwrap report 128+N
        named = f" ({_signame(sig)})" if sig else ""
        reason = f"exit {code}{named}{_limit_hint(sig, result, limits)}"
    elif check.expected_output is not None and result.stdout.truncated:
        reason = f"stdout exceeded {limits.output_bytes // 1024} KiB (truncated); cannot match expected output"
    elif check.expected_output is not None:
        mismatch = match_output(check.expected_output, decode(result.stdout.head))
        status, reason = ("pass", "ok") if mismatch is None else ("fail", f"output mismatch: {mismatch}")
    else:
        status, reason = "pass", "ok"
    return CheckResult(
        id=name,
        status=status,
        reason=reason,
        line=check.line,
        exit_code=result.exit_code,
        signal=result.signal,
        timed_out=result.timed_out,
        duration=round(result.duration, 4),
        stdout_tail=_tail(result.stdout),
        stderr_tail=_tail(result.stderr),
        stdout_truncated=result.stdout.truncated,
        stderr_truncated=result.stderr.truncated,
        isolation=result.isolation,
        isolation_detail=result.detail,
    )


def _signame(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _limit_hint(sig: int | None, result: SandboxResult, limits: Limits) -> str:
    """Name the limit a check most likely ran into, so "exit 1" is not the whole story."""
    if sig == signal.SIGXCPU:
        return " (CPU time limit)"
    if sig == signal.SIGXFSZ:
        return f" (file size limit {limits.file_size_mb} MiB)"
    err = result.stderr.tail
    if b"MemoryError" in err or b"Cannot allocate memory" in err or b"out of memory" in err:
        return f" (memory limit {limits.memory_mb} MiB)"
    if b"Resource temporarily unavailable" in err or b"fork: retry" in err:
        return f" (process limit {limits.processes})"
    return ""


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _tail(captured: sandbox.Captured) -> str:
    """The last lines of a stream as printable text (check output may be binary garbage)."""
    text = _CONTROL.sub("\ufffd", decode(captured.tail))
    return text[-TAIL_CHARS:]


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def match_output(expected: str, actual: str) -> str | None:
    """None when *actual* matches *expected*, else where it first went wrong.

    Trailing whitespace is ignored on every line and at the end; a line that is exactly
    ``...`` matches any number of lines (including none), like a glob's ``*`` over lines.
    """
    want, got = _lines(expected), _lines(actual)
    i = j = 0
    star_i, star_j = -1, 0
    while j < len(got):
        if i < len(want) and want[i].strip() == ELLIPSIS:
            star_i, star_j = i, j
            i += 1
        elif i < len(want) and want[i] == got[j]:
            i += 1
            j += 1
        elif star_i >= 0:
            star_j += 1
            i, j = star_i + 1, star_j
        else:
            return _describe(want, got, i, j)
    while i < len(want) and want[i].strip() == ELLIPSIS:
        i += 1
    if i < len(want):
        return f"line {len(got) + 1}: expected {want[i]!r}, got end of output"
    return None


def _describe(want: list[str], got: list[str], i: int, j: int) -> str:
    if i >= len(want):
        return f"line {j + 1}: unexpected extra output {got[j][:80]!r}"
    return f"line {j + 1}: expected {want[i][:80]!r}, got {got[j][:80]!r}"
