"""Run one untrusted command against a throwaway copy of a skill folder.

Skill content is never trusted (docs/DESIGN.md, "The trust model"): the folder is copied to a fresh scratch directory,
the command runs there under the strongest isolation this machine offers (bwrap, else the
rlimit fallback), with an allow-listed environment, a deadline enforced by killing the whole
process group, and output capped while still being drained so a chatty check cannot block or
exhaust memory. The result records which isolation was used, because evidence that overstates
its own strength is worse than none.
"""

from __future__ import annotations

import binascii
import contextlib
import dataclasses
import functools
import marshal
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
from skillctl.sandbox.base import Limits, Plan, unprivileged_ids
from skillctl.sandbox.cgroup import PidsCgroup

__all__ = ["Captured", "Command", "Limits", "SandboxResult", "available_isolation", "isolation_label", "kill_all",
           "run", "run_batch", "sweep_stale_scratch"]

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


@dataclass(frozen=True)
class Command:
    """One command of a batch: what to run, its own deadline, and the variables it is given."""

    argv: list[str]
    timeout: float = 60.0
    env: dict[str, str] = field(default_factory=dict)


def isolation_label() -> str:
    """What the lock records as ``env.sandbox``: the backend *and* the uid checks really run as.

    ``bwrap`` alone said nothing about whether a check could read root's files; the uid does.
    """
    binary, _mode, _reason = sandbox_bwrap.probe()
    ids = unprivileged_ids()
    uid = ids[0] if ids else os.getuid()
    return f"{'bwrap' if binary else 'fallback'} as uid {uid}"


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
    command = Command(list(argv), limits.timeout, dict(env or {}))
    return run_batch([command], folder, limits=limits, network=network, hide=hide,
                     require_sandbox=require_sandbox, backend=backend)[0]


def run_batch(
    commands: list[Command],
    folder: Path,
    *,
    limits: Limits | None = None,
    network: bool = False,
    hide: tuple[Path, ...] = (),
    require_sandbox: bool = False,
    backend: Backend = "auto",
    on_result: Callable[[int, SandboxResult], None] | None = None,
) -> list[SandboxResult]:
    """Run several commands against fresh copies of one folder, in ONE sandbox when bwrap works.

    Each command keeps its own deadline, output caps, working copy, $HOME and $TMPDIR, and
    nothing it started survives into the next (see ``supervisor.py``). Commands of one batch
    must belong to one skill: they share a sandbox, so one could disturb another's run. The
    results come back in order; ``on_result`` sees each as soon as it is known.
    """
    limits = limits or Limits()
    sweep_stale_scratch()
    if backend == "fallback":
        binary, mode, reason = None, "", "fallback requested"
    else:
        binary, mode, reason = sandbox_bwrap.probe()
    if binary is None and (require_sandbox or backend == "bwrap"):
        raise SandboxError(f"a real sandbox is required but {reason}")
    if not commands:
        return []
    _refuse_oversized(folder, limits)
    if binary is None:
        results = []
        for i, command in enumerate(commands):
            one = dataclasses.replace(limits, timeout=command.timeout)
            results.append(_run_fallback(command, folder, one, network, reason))
            if on_result:
                on_result(i, results[-1])
        return results
    return _run_bwrap(binary, mode, commands, folder, limits, network, hide, on_result)


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    return {**BASE_ENV, "PATH": os.environ.get("PATH") or DEFAULT_PATH, **extra}


def _run_fallback(command: Command, folder: Path, limits: Limits, network: bool, reason: str) -> SandboxResult:
    scratch = make_scratch()
    workdir, home = scratch / "skill", scratch / "home"
    try:
        plan = sandbox_fallback.build_plan(command.argv, limits, network=network, reason=reason)
        _copy_skill(folder, workdir)
        home.mkdir()
        (scratch / "tmp").mkdir()
        if plan.run_as:
            _chown_tree(scratch, plan.run_as)
        child_env = _child_env(command.env)
        child_env.update(HOME=str(home), TMPDIR=str(scratch / "tmp"))
        return _execute(plan, workdir, child_env, limits)
    finally:
        _remove(scratch)


def _run_bwrap(binary: str, mode: str, commands: list[Command], folder: Path, limits: Limits, network: bool,
               hide: tuple[Path, ...], on_result: Callable[[int, SandboxResult], None] | None) -> list[SandboxResult]:
    scratch = make_scratch()
    try:
        _copy_skill(folder, scratch / "src")
        (scratch / "run").mkdir()
        plan = sandbox_bwrap.build_plan(binary, mode, scratch, dataclasses.replace(
            limits, timeout=max(c.timeout for c in commands)), network=network, hide=tuple(hide))
        if plan.run_as:
            _chown_tree(scratch, plan.run_as)
        setpriv = shutil.which("setpriv")
        if len(commands) == 1 and (plan.drop_inside is None or setpriv):
            result = _run_direct(plan, scratch, commands[0], limits, setpriv)
            if on_result:
                on_result(0, result)
            return [result]
        job = {"drop": plan.drop_inside, "src": str(scratch / "src"), "run": str(scratch / "run"),
               "cap": limits.output_bytes,
               "checks": [{"argv": c.argv, "timeout": c.timeout, "env": _child_env(c.env)} for c in commands]}
        return _supervise_batch(plan, scratch, job, commands, limits, on_result)
    finally:
        _remove(scratch)


_DIRECT = 'mkdir -p "$2/home" "$2/tmp" && cp -RP "$1" "$2/skill" && cd "$2/skill" && shift 2 && exec "$@"'


def _run_direct(plan: Plan, scratch: Path, command: Command, limits: Limits, setpriv: str | None) -> SandboxResult:
    """A batch of one needs no supervisor: its start-up would cost more than the check.

    ``sh`` (and, when root must be dropped, util-linux ``setpriv``) copies the skill onto the
    capped tmpfs and execs the check. Its deadline and output caps are enforced from outside;
    when it exits, bwrap tears down the pid namespace, which kills whatever it left running.
    """
    run = scratch / "run" / "0"
    drop = []
    if plan.drop_inside is not None:
        uid, gid = plan.drop_inside
        drop = [setpriv or "setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    prefix = plan.argv[: plan.argv.index("--") + 1]
    direct = dataclasses.replace(plan, argv=[*prefix, *drop, "sh", "-c", _DIRECT, "sh", str(scratch / "src"), str(run),
                                            *command.argv])
    env = _child_env(command.env)
    env.update(HOME=str(run / "home"), TMPDIR=str(run / "tmp"))
    return _execute(direct, scratch, env, dataclasses.replace(limits, timeout=command.timeout))


def _supervise_batch(plan: Plan, scratch: Path, job: dict, commands: list[Command], limits: Limits,
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
    # Root: one pids cgroup per sandbox bounds the processes of all its checks (+8 for bwrap's
    # own and the supervisor), whatever other sandboxes of the shared uid are doing.
    cgroup = PidsCgroup.create(limits.processes + 8) if os.geteuid() == 0 else None
    preexec = _joining(cgroup, plan.preexec) if cgroup is not None else plan.preexec
    if cgroup is not None:
        detail += f"; pids cgroup max {limits.processes}"
    env = {"PATH": os.environ.get("PATH") or DEFAULT_PATH, "LANG": "C.UTF-8"}
    errors: list[str] = []
    try:
        proc = subprocess.Popen(plan.argv, cwd=scratch, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, preexec_fn=preexec)
    except (OSError, subprocess.SubprocessError) as exc:
        errors.append(f"cannot start the sandbox: {exc}")
        proc = None
    if proc is not None:
        with _LIVE_LOCK:
            _LIVE.add(proc)
        try:
            _feed(proc, job)
            report, stderr, timed_out = _collect(proc, deadline, budget, results, limits.output_bytes, plan, detail,
                                                 on_result)
            if timed_out:
                errors.append("the sandbox ran past the sum of its checks' timeouts and was killed")
            elif report == "overflow":
                errors.append("the sandbox reported more than its checks could produce; killed")
            msg = stderr.decode("utf-8", "replace").strip().splitlines()
            if msg:
                errors.append(msg[-1][:300])
        finally:
            _kill_group(proc)
            with _LIVE_LOCK:
                _LIVE.discard(proc)
            if cgroup is not None:
                cgroup.destroy()
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
             on_result: Callable[[int, SandboxResult], None] | None) -> tuple[str, bytes, bool]:
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
                _kill_group(proc, rounds=5)
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
                    _kill_group(proc, rounds=5)
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


def _refuse_oversized(folder: Path, limits: Limits) -> None:
    """A skill bigger than the per-check scratch cap could never be copied in: say so up front."""
    cap = limits.tmpfs_mb * 1024 * 1024
    total = 0
    for dirpath, _dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
        if total > cap:
            raise InputError(f"skill folder is larger than the {limits.tmpfs_mb} MiB scratch cap of a check",
                             path=folder, code="SK019")


def _execute(plan: Plan, workdir: Path, env: dict[str, str], limits: Limits) -> SandboxResult:
    out, err = Captured(limits.output_bytes), Captured(limits.output_bytes)
    # Root: a pids cgroup per command (see ``_supervise_batch``); elsewhere RLIMIT_NPROC binds.
    as_root = os.geteuid() == 0
    cgroup = PidsCgroup.create(limits.processes + 8) if as_root else None
    preexec = plan.preexec
    detail = plan.detail
    if cgroup is not None:
        preexec = _joining(cgroup, plan.preexec)
        detail += f"; pids cgroup max {limits.processes}"
    elif as_root:
        detail += "; processes bounded only by the shared RLIMIT_NPROC (no writable pids cgroup)"
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
        stdout.close()
        stderr.close()


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


SCRATCH_PREFIX = "skillctl-check-"
OWNER_FILE = ".skillctl-owner"


def _start_ticks(pid: int) -> str | None:
    """A process's start time in clock ticks since boot: with the pid, it names one process."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_line.rsplit(")", 1)[-1].split()[19]


def make_scratch() -> Path:
    """A fresh scratch dir named and stamped with its owner (pid + start time) for the sweep."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=scratch_base()))
    (scratch / OWNER_FILE).write_text(f"{os.getpid()} {_start_ticks(os.getpid())}\n")
    return scratch


@functools.cache
def sweep_stale_scratch() -> int:
    """Remove scratch dirs left by a skillctl that was SIGKILLed (once per process).

    Only dirs that are unmistakably ours: our prefix, a real directory (not a symlink), owned by
    our uid, stamped with an owner file whose process (pid *and* start time) no longer exists.
    """
    base = Path(scratch_base() or tempfile.gettempdir())
    removed = 0
    try:
        entries = list(os.scandir(base))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(SCRATCH_PREFIX):
            continue
        try:
            st = os.lstat(entry.path)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                continue
            owner = Path(entry.path) / OWNER_FILE
            ost = os.lstat(owner)
            if not stat.S_ISREG(ost.st_mode) or ost.st_uid != os.geteuid():
                continue
            pid_text, ticks = owner.read_text().split()
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        if _start_ticks(pid) == ticks:
            continue  # its owner is still running
        _remove(Path(entry.path))
        removed += 1
    return removed


def _copy_skill(folder: Path, dest: Path) -> None:
    """Copy a skill folder, refusing FIFOs, sockets and devices (SK017) rather than hanging."""
    from skillctl.safeio import refuse_special

    def ignore(directory: str, names: list[str]) -> set[str]:
        for name in names:
            path = os.path.join(directory, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            refuse_special(Path(path), mode)
        return set()

    try:
        shutil.copytree(folder, dest, symlinks=True, ignore=ignore)
    except InputError:
        raise
    except FileNotFoundError as exc:
        raise InputError("skill folder disappeared before its checks could run", path=folder) from exc
    except (OSError, shutil.Error) as exc:
        raise InputError(f"cannot copy skill folder into the sandbox: {exc}", path=folder) from exc


def _chown_tree(scratch: Path, owner: tuple[int, int]) -> None:
    """Hand the copy to the sandbox uid; the scratch dir itself and its owner stamp stay ours
    (walkable, not listable), so a check can neither forge a stamp nor get our dir swept."""
    scratch.chmod(0o711)
    for path in scratch.rglob("*"):
        if path != scratch / OWNER_FILE:
            os.lchown(path, *owner)


def _remove(scratch: Path) -> None:
    def unlock(func, path, _exc) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(scratch, onerror=unlock)
