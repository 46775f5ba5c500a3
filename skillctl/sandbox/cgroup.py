"""A pids cgroup per sandboxed command, for the case rlimits cannot cover: running as root.

RLIMIT_NPROC does not bind root (and bwrap keeps root's identity when the interpreter lives
where ``nobody`` cannot read it), so a fork bomb in a check would run unbounded until the
timeout and flood the machine. When skillctl runs as root and the kernel's pids controller is
writable, each command gets its own cgroup with ``pids.max``; every descendant inherits it,
including ones that escape the process group with ``setsid``, and all of them are killed
through it afterwards. Elsewhere (a normal user, no writable controller) this is a no-op and
the rlimits apply as before.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
import uuid
from pathlib import Path

_CANDIDATES = (
    Path("/sys/fs/cgroup/pids"),  # cgroup v1 pids hierarchy
    Path("/sys/fs/cgroup"),  # cgroup v2 unified hierarchy at the usual mount point
)


@functools.cache
def _hierarchy() -> Path | None:
    """A pids-capable cgroup directory we may create children in, probed once per process."""
    if os.geteuid() != 0:
        return None
    for base in _CANDIDATES:
        v2 = (base / "cgroup.controllers").is_file()
        if v2 and "pids" not in (base / "cgroup.subtree_control").read_text().split():
            continue
        if not v2 and not (base / "cgroup.procs").is_file():
            continue
        probe = base / f"skillctl-probe-{uuid.uuid4().hex[:8]}"
        try:
            probe.mkdir()
        except OSError:
            continue
        usable = (probe / "pids.max").is_file()
        with contextlib.suppress(OSError):
            probe.rmdir()
        if usable:
            return base
    return None


class PidsCgroup:
    """One command's cgroup: join it from the child, then kill everything in it and remove it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._procs = str(path / "cgroup.procs")

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup | None:
        base = _hierarchy()
        if base is None:
            return None
        path = base / f"skillctl-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids))
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path)

    def join(self) -> None:
        """Move the calling process in. Runs in the child between fork and exec: plain syscalls."""
        fd = os.open(self._procs, os.O_WRONLY)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in Path(self._procs).read_text().split()]
        except (OSError, ValueError):
            return []

    def destroy(self, timeout: float = 5.0) -> None:
        """SIGKILL every member until the cgroup is empty, then remove it."""
        deadline = time.monotonic() + timeout
        kill_file = self.path / "cgroup.kill"  # cgroup v2 (Linux 5.14+): one write kills all
        while True:
            members = self.pids()
            if not members:
                break
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)
        while True:
            try:
                self.path.rmdir()
                return
            except OSError:
                if time.monotonic() > deadline:
                    return  # a zombie not yet reaped; the kernel frees the cgroup once it is
                time.sleep(0.001)
