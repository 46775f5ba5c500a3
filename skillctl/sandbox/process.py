"""One sandboxed process from start to reaped: caps on its output, a deadline, a clean kill.

Used for a check run on its own (bwrap's direct path, the fallback) and, through ``_LIVE``,
by Ctrl-C handling, which must kill every sandbox still running without waiting for timeouts.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from skillctl.sandbox.base import Captured, Limits, Plan, SandboxResult
from skillctl.sandbox.cgroup import PidsScope

_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()


def kill_all() -> None:
    """Kill every sandboxed command still running (Ctrl-C must not wait for check timeouts)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def open_scope(limits: Limits) -> tuple[PidsScope | None, str]:
    """As root, the pids cgroup the sandbox will run in, and what the result should say about it.

    One per sandbox, never shared with another sandbox: RLIMIT_NPROC does not bind root and
    would count every sandbox of the shared unprivileged uid together.
    """
    if os.geteuid() != 0:
        return None, ""
    scope = PidsScope.open(limits.processes + 8)  # +8: bwrap's own processes and the supervisor
    if scope is None:
        return None, "; processes bounded only by the shared RLIMIT_NPROC (no writable pids cgroup)"
    return scope, f"; pids cgroup max {limits.processes}"


def spawn(scope: PidsScope | None, plan: Plan, **kwargs: Any) -> subprocess.Popen:
    """Start the plan's process, inside *scope* when there is one, in a session of its own."""
    if scope is not None:
        scope.inner_first = plan.isolation == "bwrap"
        return scope.popen(plan.argv, plan.preexec, start_new_session=True, **kwargs)
    return subprocess.Popen(plan.argv, preexec_fn=plan.preexec, start_new_session=True, **kwargs)


def execute(plan: Plan, workdir: Path, env: dict[str, str], limits: Limits) -> SandboxResult:
    """Run one command to its end or its deadline; whatever it started dies with it."""
    out, err = Captured(limits.output_bytes), Captured(limits.output_bytes)
    scope, note = open_scope(limits)
    detail = plan.detail + note
    start = time.monotonic()
    try:
        try:
            proc = spawn(scope, plan, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        except (OSError, subprocess.SubprocessError) as exc:
            return SandboxResult(None, None, False, 0.0, out, err, plan.isolation, detail, f"cannot start: {exc}")
        return _supervise(proc, plan, detail, limits, out, err, start, scope)
    finally:
        if scope is not None:
            scope.close()


def _supervise(proc: subprocess.Popen, plan: Plan, detail: str, limits: Limits, out: Captured, err: Captured,
               start: float, scope: PidsScope | None) -> SandboxResult:
    with _LIVE_LOCK:
        _LIVE.add(proc)
    try:
        timed_out = _pump(proc, out, err, start + limits.timeout, scope)
        kill_group(proc, scope=scope)
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    duration = time.monotonic() - start
    code = proc.returncode
    if timed_out:  # bwrap may report the kill of what ran inside it as its own exit 137
        code = -signal.SIGKILL
    killed = code is not None and code < 0
    return SandboxResult(
        exit_code=None if killed else code,
        signal=-code if killed else None,
        timed_out=timed_out,
        duration=duration,
        stdout=out,
        stderr=err,
        isolation=plan.isolation,
        detail=detail,
    )


def _pump(proc: subprocess.Popen, out: Captured, err: Captured, deadline: float, scope: PidsScope | None) -> bool:
    """Drain both pipes until EOF or the deadline; returns True on timeout.

    Once the main process has exited, leftover background children are killed (its process
    group and, as root, everything in its cgroup, ``setsid`` escapees included) so that a pipe
    they hold open cannot keep us waiting.
    """
    stdout, stderr = proc.stdout, proc.stderr
    if stdout is None or stderr is None:  # started without pipes: a caller's bug, not a check's doing
        raise RuntimeError("the check was started without output pipes")
    sel = selectors.DefaultSelector()
    for pipe, sink in ((stdout, out), (stderr, err)):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ, sink)
    reaped = False
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill_group(proc, rounds=5, scope=scope)
                return True
            for key, _ in sel.select(min(remaining, 0.25)):
                data = os.read(key.fd, 65536)
                if data:
                    key.data.add(data)
                else:
                    sel.unregister(key.fileobj)
            if not reaped and proc.poll() is not None:
                kill_group(proc)
                if scope is not None:
                    scope.kill()
                reaped = True
        proc.wait(max(0.0, deadline - time.monotonic()))
        return False
    except subprocess.TimeoutExpired:
        kill_group(proc, rounds=5, scope=scope)
        return True
    finally:
        sel.close()
        stdout.close()
        stderr.close()


def kill_group(proc: subprocess.Popen, rounds: int = 1, scope: PidsScope | None = None) -> None:
    """SIGKILL the whole process group; after a timeout a few times, in case a fork raced it.

    Not "until it is gone": orphans reparented to a container's init may linger as zombies
    that still count as group members, and waiting on them would stall every run. For the same
    reason bwrap's inner processes die first when there is a cgroup to find them by: bwrap then
    reaps them itself, instead of leaving them to an init that may never reap (and whose
    zombies would keep holding pids of the cgroup).
    """
    if scope is not None and scope.inner_first and proc.poll() is None:
        scope.kill(spare=proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.5)
    for i in range(rounds):
        if i:
            time.sleep(0.005)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
        proc.poll()
    proc.wait()


