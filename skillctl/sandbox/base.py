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
from collections.abc import Callable
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000


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
    wanted = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_AS: limits.memory_mb * 1024 * 1024,
        resource.RLIMIT_FSIZE: limits.file_size_mb * 1024 * 1024,
        resource.RLIMIT_NPROC: nproc,
        resource.RLIMIT_CPU: max(1, int(limits.timeout) + 1),
    }
    settings = [(res, _within_hard_limit(res, value)) for res, value in wanted.items()]
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
