"""What every sandbox backend shares: resource limits, privilege drop, and the launch plan.

Backends (``sandbox_bwrap``, ``sandbox_fallback``) only decide *how* a command is wrapped; the
limits and the unprivileged identity are the same for both, so a check behaves the same way
whichever isolation this machine allows. Kept apart from ``sandbox.py`` so backends can import it
without a cycle.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import pwd
import resource
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNET = 0x40000000
TAIL_BYTES = 4096


@dataclass(frozen=True)
class Limits:
    """Ceilings for one sandboxed command. Defaults contain a 1 GB allocation and a fork bomb."""

    timeout: float = 60.0
    memory_mb: int = 1024
    file_size_mb: int = 64
    processes: int = 256
    output_bytes: int = 64 * 1024
    tmpfs_mb: int = 256


@dataclass
class Plan:
    """How a backend wants a command started: the final argv plus what to do in the child."""

    argv: list[str]
    isolation: str
    detail: str
    preexec: Callable[[], None] | None = None
    run_as: tuple[int, int] | None = None  # who must own the scratch copy
    drop_inside: tuple[int, int] | None = None  # the supervisor drops to this uid/gid first
    uid: int = -1  # the uid checks really run as (what the lock records)


def unprivileged_ids() -> tuple[int, int] | None:
    """The uid/gid to drop to when skillctl runs as root (``nobody``), else None.

    Running checks as root would make RLIMIT_NPROC a no-op (root is exempt) and make every
    root-owned secret readable, so root always hands the command to ``nobody``.
    """
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


def process_budget(limits: Limits, drop_to: tuple[int, int] | None) -> int:
    """RLIMIT_NPROC counts every process of the uid, not just ours: add what already ran at start.

    Root is exempt from the limit anyway, so it is not worth a scan of /proc per check.
    """
    if drop_to is not None or os.getuid() == 0:
        from skillctl.sandbox.cgroup import _hierarchy

        # As root each sandbox gets a pids cgroup of its own. The rlimit would count every
        # process of the shared unprivileged uid, so a fork bomb in one skill's sandbox could
        # starve another skill's checks; with the cgroup it is only a generous backstop.
        return limits.processes * 16 if _hierarchy() is not None else limits.processes
    return limits.processes + _processes_of(os.getuid())


@functools.cache
def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(entry.path).st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


@functools.cache
def _libc() -> ctypes.CDLL:
    """Loaded before fork: ``find_library`` spawns helpers, which a preexec hook must not do."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _unshare_network(libc: ctypes.CDLL) -> None:
    """Enter a fresh, empty network namespace (loopback down): no host, no internet."""
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def rlimit_settings(limits: Limits, nproc: int) -> list[tuple[int, tuple[int, int]]]:
    """The rlimits every sandboxed command gets, as (resource, (soft, hard)) pairs."""
    wanted = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_AS: limits.memory_mb * 1024 * 1024,
        resource.RLIMIT_FSIZE: limits.file_size_mb * 1024 * 1024,
        resource.RLIMIT_NPROC: nproc,
        resource.RLIMIT_CPU: max(1, int(limits.timeout) + 1),
    }
    return [(res, _within_hard_limit(res, value)) for res, value in wanted.items()]


_PRLIMIT_FLAGS = {resource.RLIMIT_CORE: "core", resource.RLIMIT_AS: "as", resource.RLIMIT_FSIZE: "fsize",
                  resource.RLIMIT_NPROC: "nproc", resource.RLIMIT_CPU: "cpu"}


def drop_tool(drop_to: tuple[int, int]) -> str | None:
    """util-linux ``setpriv``, if the one on PATH really becomes *drop_to*; else None (the caller
    then drops in Python, as it would without one).

    The drop is the only thing between a check and root's files, so it is not taken on the
    word of whatever answers to the name: a ``setpriv`` that takes the options and changes
    nothing (another implementation, a wrapper) would otherwise run checks as root.
    """
    path = shutil.which("setpriv")
    return path if path is not None and _drops(path, drop_to) else None


@functools.cache
def _drops(setpriv: str, drop_to: tuple[int, int]) -> bool:
    """Run ``setpriv ... -- cat /proc/self/status`` once: every uid and gid the target, no groups."""
    import subprocess

    cat = shutil.which("cat") or "/bin/cat"
    try:
        done = subprocess.run([setpriv, f"--reuid={drop_to[0]}", f"--regid={drop_to[1]}", "--clear-groups", "--", cat,
                               "/proc/self/status"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    fields = dict(line.split(":", 1) for line in done.stdout.decode("ascii", "replace").splitlines() if ":" in line)
    ids = [fields.get("Uid", "").split(), fields.get("Gid", "").split()]
    return (done.returncode == 0 and ids[0] == [str(drop_to[0])] * 4 and ids[1] == [str(drop_to[1])] * 4
            and not fields.get("Groups", "").split())


def launch_wrapper(settings: list[tuple[int, tuple[int, int]]], drop_to: tuple[int, int] | None) -> list[str] | None:
    """util-linux ``setpriv`` and ``prlimit`` doing what a preexec hook would, or None.

    A preexec hook forces a real fork of skillctl (a large process) and runs Python in the
    child: 2-5 ms per sandbox, where two small execs cost well under one. Same order as
    ``make_preexec``: the privilege drop first, so the rlimits bind the final identity.
    """
    prlimit = shutil.which("prlimit")
    setpriv = drop_tool(drop_to) if drop_to is not None else ""
    if not prlimit or setpriv is None:
        return None
    wrapper: list[str] = []
    if drop_to is not None:
        wrapper += [setpriv, f"--reuid={drop_to[0]}", f"--regid={drop_to[1]}", "--clear-groups", "--"]
    limits = [f"--{_PRLIMIT_FLAGS[res]}={soft}:{hard}" for res, (soft, hard) in settings]
    return [*wrapper, prlimit, *limits, "--"]


def make_preexec(
    limits: Limits,
    *,
    nproc: int,
    drop_to: tuple[int, int] | None,
    isolate_network: bool = False,
) -> Callable[[], None]:
    """Build the function the child runs between fork and exec.

    Order matters: the network namespace needs root's capability, so it is entered before the
    privilege drop; rlimits are set last so they bind the final identity.
    """
    settings = rlimit_settings(limits, nproc)
    libc = _libc() if isolate_network else None

    def preexec() -> None:
        if libc is not None:
            _unshare_network(libc)
        if drop_to is not None:
            os.setgroups([])
            os.setgid(drop_to[1])
            os.setuid(drop_to[0])
        for res, value in settings:
            resource.setrlimit(res, value)

    return preexec


def _within_hard_limit(res: int, value: int) -> tuple[int, int]:
    """A container may forbid raising hard limits even to root: never ask for more than it has."""
    hard = resource.getrlimit(res)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    return value, value


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


@dataclass(frozen=True)
class Command:
    """One command of a batch: what to run, its own deadline, and the variables it is given."""

    argv: list[str]
    timeout: float = 60.0
    env: dict[str, str] = field(default_factory=dict)


def start_ticks(pid: int) -> str | None:
    """A process's start time in clock ticks since boot: with the pid, it names one process."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_line.rsplit(")", 1)[-1].split()[19]
