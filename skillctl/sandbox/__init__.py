"""Run one untrusted command against a throwaway copy of a skill folder.

Skill content is never trusted (docs/DESIGN.md, "The trust model"): the folder is copied to a fresh scratch directory,
the command runs there under the strongest isolation this machine offers (bwrap, else the
rlimit fallback), with an allow-listed environment, a deadline enforced by killing the whole
process group, and output capped while still being drained so a chatty check cannot block or
exhaust memory. The result records which isolation was used, because evidence that overstates
its own strength is worse than none.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from skillctl.errors import InputError, SandboxError
from skillctl.sandbox import bwrap as sandbox_bwrap
from skillctl.sandbox import fallback as sandbox_fallback
from skillctl.sandbox.base import Limits, Plan
from skillctl.sandbox.cgroup import PidsCgroup

__all__ = ["Captured", "Limits", "SandboxResult", "available_isolation", "kill_all", "run"]

Backend = Literal["auto", "bwrap", "fallback"]
TAIL_BYTES = 4096
BASE_ENV = {"LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()


@dataclass
class Captured:
    """First ``cap`` bytes of a stream (for matching), its last bytes (for humans), its size."""

    cap: int
    head: bytes = b""
    tail: bytes = b""
    total: int = 0

    def add(self, data: bytes) -> None:
        if len(self.head) < self.cap:
            self.head += data[: self.cap - len(self.head)]
        self.tail = (self.tail + data)[-TAIL_BYTES:]
        self.total += len(data)

    @property
    def truncated(self) -> bool:
        return self.total > self.cap


@dataclass
class SandboxResult:
    """What happened. ``exit_code`` is None when the command never started or was killed."""

    exit_code: int | None
    signal: int | None
    timed_out: bool
    duration: float
    stdout: Captured
    stderr: Captured
    isolation: str
    detail: str
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def available_isolation() -> tuple[str, str]:
    """``("bwrap", "")`` or ``("fallback", why bwrap is unusable)``; probed once per process."""
    binary, _mode, reason = sandbox_bwrap.probe()
    return ("bwrap", "") if binary else ("fallback", reason)


@functools.cache
def scratch_base() -> str | None:
    """Where scratch copies go: RAM-backed /dev/shm when usable (creating and removing a few
    directories on a disk filesystem can cost more than the check itself), else the usual
    temp dir. ``SKILLCTL_SCRATCH`` overrides both."""
    override = os.environ.get("SKILLCTL_SCRATCH")
    if override:
        return override
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


def kill_all() -> None:
    """Kill every sandboxed command still running (Ctrl-C must not wait for check timeouts)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def run(
    argv: list[str],
    folder: Path,
    *,
    limits: Limits | None = None,
    network: bool = False,
    env: dict[str, str] | None = None,
    hide: tuple[Path, ...] = (),
    require_sandbox: bool = False,
    backend: Backend = "auto",
) -> SandboxResult:
    """Run ``argv`` inside a scratch copy of ``folder``; the original folder is never written.

    ``env`` holds the only variables passed besides PATH/LANG/HOME/TMPDIR; ``hide`` lists extra
    host paths to mask (the repository's ``.git``). Raises SandboxError when ``require_sandbox``
    is set and bwrap is unusable, InputError when the folder cannot be copied.
    """
    limits = limits or Limits()
    if backend == "fallback":
        binary, mode, reason = None, "", "fallback requested"
    else:
        binary, mode, reason = sandbox_bwrap.probe()
    if binary is None and (require_sandbox or backend == "bwrap"):
        raise SandboxError(f"a real sandbox is required but {reason}")
    scratch = Path(tempfile.mkdtemp(prefix="skillctl-check-", dir=scratch_base()))
    workdir, home = scratch / "skill", scratch / "home"
    try:
        if binary:
            plan = sandbox_bwrap.build_plan(
                binary, mode, argv, scratch, workdir, limits, network=network, hide=tuple(hide)
            )
        else:
            plan = sandbox_fallback.build_plan(argv, limits, network=network, reason=reason)
        _prepare(folder, scratch, plan.run_as)
        child_env = {**BASE_ENV, "PATH": os.environ.get("PATH") or DEFAULT_PATH, **(env or {})}
        child_env.update(HOME=str(home), TMPDIR="/tmp" if binary else str(scratch / "tmp"))
        return _execute(plan, workdir, child_env, limits)
    finally:
        _remove(scratch)


def _prepare(folder: Path, scratch: Path, owner: tuple[int, int] | None) -> None:
    workdir, home = scratch / "skill", scratch / "home"
    try:
        shutil.copytree(folder, workdir, symlinks=True, ignore=_special_files)
    except FileNotFoundError as exc:
        raise InputError("skill folder disappeared before its checks could run", path=folder) from exc
    except (OSError, shutil.Error) as exc:
        raise InputError(f"cannot copy skill folder into the sandbox: {exc}", path=folder) from exc
    home.mkdir()
    (scratch / "tmp").mkdir()
    if owner:
        for path in [scratch, *scratch.rglob("*")]:
            os.lchown(path, *owner)


def _special_files(directory: str, names: list[str]) -> set[str]:
    """Skip fifos, sockets and devices: copying a fifo would block forever."""
    skipped = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(directory, name)).st_mode
        except OSError:
            skipped.add(name)
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skipped.add(name)
    return skipped


def _execute(plan: Plan, workdir: Path, env: dict[str, str], limits: Limits) -> SandboxResult:
    out, err = Captured(limits.output_bytes), Captured(limits.output_bytes)
    # Only where RLIMIT_NPROC cannot bind (the command keeps root's uid): attaching to a
    # cgroup costs ~10 ms per check on cgroup v1. +8: bwrap's own processes count too.
    as_root = os.geteuid() == 0 and plan.run_as is None
    cgroup = PidsCgroup.create(limits.processes + 8) if as_root else None
    preexec = plan.preexec
    detail = plan.detail
    if cgroup is not None:
        preexec = _joining(cgroup, plan.preexec)
        detail += f"; pids cgroup max {limits.processes}"
    elif as_root:
        detail += "; process limit not enforceable (root, no writable pids cgroup)"
    start = time.monotonic()
    try:
        return _supervise(plan, preexec, detail, workdir, env, limits, out, err, start)
    finally:
        if cgroup is not None:
            cgroup.destroy()


def _joining(cgroup: PidsCgroup, then: Callable[[], None] | None) -> Callable[[], None]:
    def preexec() -> None:
        cgroup.join()  # first, while still root: the privilege drop comes after
        if then is not None:
            then()

    return preexec


def _supervise(plan: Plan, preexec: Callable[[], None] | None, detail: str, workdir: Path, env: dict[str, str],
               limits: Limits, out: Captured, err: Captured, start: float) -> SandboxResult:
    try:
        proc = subprocess.Popen(
            plan.argv,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return SandboxResult(None, None, False, 0.0, out, err, plan.isolation, detail, f"cannot start: {exc}")
    with _LIVE_LOCK:
        _LIVE.add(proc)
    try:
        timed_out = _pump(proc, out, err, start + limits.timeout)
        _kill_group(proc)
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    duration = time.monotonic() - start
    code = proc.returncode
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


def _pump(proc: subprocess.Popen, out: Captured, err: Captured, deadline: float) -> bool:
    """Drain both pipes until EOF or the deadline; returns True on timeout.

    Once the main process has exited, leftover background children are killed so that a pipe
    they hold open cannot keep us waiting.
    """
    sel = selectors.DefaultSelector()
    for pipe, sink in ((proc.stdout, out), (proc.stderr, err)):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ, sink)
    reaped = False
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(proc, rounds=5)
                return True
            for key, _ in sel.select(min(remaining, 0.25)):
                data = os.read(key.fd, 65536)
                if data:
                    key.data.add(data)
                else:
                    sel.unregister(key.fileobj)
            if not reaped and proc.poll() is not None:
                _kill_group(proc)
                reaped = True
        proc.wait(max(0.0, deadline - time.monotonic()))
        return False
    except subprocess.TimeoutExpired:
        _kill_group(proc, rounds=5)
        return True
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()


def _kill_group(proc: subprocess.Popen, rounds: int = 1) -> None:
    """SIGKILL the whole process group; after a timeout a few times, in case a fork raced it.

    Not "until it is gone": orphans reparented to a container's init may linger as zombies
    that still count as group members, and waiting on them would stall every run.
    """
    for i in range(rounds):
        if i:
            time.sleep(0.005)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
        proc.poll()
    proc.wait()


def _remove(scratch: Path) -> None:
    def unlock(func, path, _exc) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(scratch, onerror=unlock)
