"""A batch of checks in one sandbox: feed the supervisor its job, turn its report into results."""

from __future__ import annotations

import binascii
import marshal
import os
import selectors
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from skillctl.sandbox.base import TAIL_BYTES, Captured, Command, Limits, Plan, SandboxResult
from skillctl.sandbox.cgroup import PidsScope
from skillctl.sandbox.process import _LIVE, _LIVE_LOCK, kill_group, open_scope, spawn

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def supervise_batch(plan: Plan, scratch: Path, job: dict, commands: list[Command], limits: Limits,
                     on_result: Callable[[int, SandboxResult], None] | None) -> list[SandboxResult]:
    """Start the sandboxed supervisor, feed it the job, and turn its report lines into results.

    The supervisor is trusted code but runs next to hostile checks, so its report is parsed
    defensively and capped; whatever it did not report is an error, never a pass.
    """
    results: list[SandboxResult | None] = [None] * len(commands)
    detail = plan.detail + (f"; {len(commands)} checks in one sandbox" if len(commands) > 1 else "")
    # Per check: both heads, both tails, base64 overhead; plus slack for the framing.
    budget = len(commands) * (2 * (limits.output_bytes + TAIL_BYTES) * 4 // 3 + 4096) + 65536
    deadline = time.monotonic() + sum(c.timeout for c in commands) + 10 + 0.05 * len(commands)
    scope, note = open_scope(limits)  # one pids cgroup bounds all the checks of the sandbox
    detail += note
    env = {"PATH": os.environ.get("PATH") or DEFAULT_PATH, "LANG": "C.UTF-8"}
    errors: list[str] = []
    try:
        try:
            proc = spawn(scope, plan, cwd=scratch, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append(f"cannot start the sandbox: {exc}")
            proc = None
        if proc is not None:
            with _LIVE_LOCK:
                _LIVE.add(proc)
            try:
                _feed(proc, job)
                report, stderr, timed_out = _collect(proc, deadline, budget, results, limits.output_bytes, plan, detail,
                                                     on_result, scope)
                if timed_out:
                    errors.append("the sandbox ran past the sum of its checks' timeouts and was killed")
                elif report == "overflow":
                    errors.append("the sandbox reported more than its checks could produce; killed")
                msg = stderr.decode("utf-8", "replace").strip().splitlines()
                if msg:
                    errors.append(msg[-1][:300])
            finally:
                kill_group(proc, scope=scope)
                with _LIVE_LOCK:
                    _LIVE.discard(proc)
    finally:
        if scope is not None:
            scope.close()
    why = "; ".join(errors) or "the sandbox ended before this check ran"
    out: list[SandboxResult] = []
    for i, r in enumerate(results):
        if r is None:
            r = SandboxResult(None, None, False, 0.0, Captured(limits.output_bytes), Captured(limits.output_bytes),
                              plan.isolation, detail, f"not run: {why}")
            if on_result:
                on_result(i, r)
        out.append(r)
    return out


def _feed(proc: subprocess.Popen, job: dict) -> None:
    """The job as ``marshal`` data: the supervisor then needs no json (and no ``re``) to start."""
    assert proc.stdin is not None
    try:
        proc.stdin.write(marshal.dumps(job))
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass


def _collect(proc: subprocess.Popen, deadline: float, budget: int, results: list[SandboxResult | None],
             cap: int, plan: Plan, detail: str,
             on_result: Callable[[int, SandboxResult], None] | None,
             scope: PidsScope | None) -> tuple[str, bytes, bool]:
    """Read report lines and bwrap's stderr until EOF, the deadline, or the byte budget."""
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    for pipe in (proc.stdout, proc.stderr):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ)
    buf, stderr, total = b"", b"", 0
    state = "ok"
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill_group(proc, rounds=5, scope=scope)
                return state, stderr, True
            for key, _ in sel.select(min(remaining, 0.25)):
                data = os.read(key.fd, 1 << 20)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                if key.fileobj is proc.stderr:
                    stderr = (stderr + data)[-TAIL_BYTES:]
                    continue
                total += len(data)
                if total > budget:
                    kill_group(proc, rounds=5, scope=scope)
                    return "overflow", stderr, False
                buf += data
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    _accept(line, results, cap, plan, detail, on_result)
        return state, stderr, False
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()


def _accept(line: bytes, results: list[SandboxResult | None], cap: int, plan: Plan, detail: str,
            on_result: Callable[[int, SandboxResult], None] | None) -> None:
    """One report line -> one result; anything malformed or repeated is ignored (never a pass).

    The line is ``R i exit signal timed_out duration`` and then, for stdout and stderr, total
    size, head and tail (base64), and last an error message (base64); ``-`` stands for none.
    """
    fields = line.split(b" ")
    if len(fields) != 13 or fields[0] != b"R":
        return
    try:
        i = int(fields[1])
        if not 0 <= i < len(results) or results[i] is not None:
            return
        error = _b64(fields[12])
        r = SandboxResult(
            exit_code=_int_or_none(fields[2]),
            signal=_int_or_none(fields[3]),
            timed_out=fields[4] == b"1",
            duration=max(0.0, float(fields[5])),
            stdout=_captured(fields[6:9], cap),
            stderr=_captured(fields[9:12], cap),
            isolation=plan.isolation,
            detail=detail,
            error=error.decode("utf-8", "replace")[:500] if error else None,
        )
    except (ValueError, binascii.Error):
        return
    results[i] = r
    if on_result:
        on_result(i, r)


def _int_or_none(field: bytes) -> int | None:
    return None if field == b"-" else int(field)


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def _b64(field: bytes) -> bytes:
    if field == b"-":
        return b""
    if field.translate(None, _B64_ALPHABET):  # a2b_base64 would skip stray bytes silently
        raise ValueError("not base64")
    return binascii.a2b_base64(field)


def _captured(fields: list[bytes], cap: int) -> Captured:
    total, head, tail = fields
    c = Captured(cap)
    c.head = _b64(head)[:cap]
    c.tail = _b64(tail)[-TAIL_BYTES:]
    c.total = max(int(total), len(c.head))
    return c


