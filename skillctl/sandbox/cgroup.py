"""A pids cgroup per sandbox, for the case rlimits cannot cover: running as root.

RLIMIT_NPROC does not bind root (and bwrap keeps root's identity when the interpreter lives
where ``nobody`` cannot read it), so a fork bomb in a check would run unbounded until the
timeout and flood the machine. When skillctl runs as root and the kernel's pids controller is
writable, each sandbox runs alone in a cgroup with ``pids.max``; every descendant inherits it,
including ones that escape the process group with ``setsid``, and all of them are killed
through it afterwards. Elsewhere (a normal user, no writable controller) this is a no-op and
the rlimits apply as before.

Moving a process into a cgroup waits for an RCU grace period (10-15 ms here) whenever no other
move happened in the last few milliseconds: that was most of a trivial check's overhead as
root. So on a cgroup v1 hierarchy, where a single thread may sit in a cgroup of its own, a
``Launcher`` thread is parked in each cgroup once and starts sandboxes from there: they are born
inside it and nothing is ever moved. Between two sandboxes the cgroup is emptied (everything
in it but the launcher is killed), so a sandbox still never shares its cgroup with another.
On cgroup v2, where threads of one process cannot be split that way, each sandbox gets a fresh
cgroup that its first process joins between fork and exec.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from skillctl.sandbox.base import start_ticks

T = TypeVar("T")
PREFIX = "skillctl-"
# bwrap's monitor may exit before its pid-1 helper, which is then left to init; an init that
# reaps slowly (or never, in some containers) leaves it charged to the cgroup as a zombie.
MAX_ZOMBIES = 16

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
        path = base / f"{PREFIX}{os.getpid()}.{start_ticks(os.getpid())}-{uuid.uuid4().hex[:12]}"
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

    def set_max(self, max_pids: int) -> None:
        (self.path / "pids.max").write_text(str(max_pids))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in Path(self._procs).read_text().split()]
        except (OSError, ValueError):
            return []

    def charged(self) -> int:
        """``pids.current``: members plus exited processes no one has reaped yet."""
        try:
            return int((self.path / "pids.current").read_text())
        except (OSError, ValueError):
            return 1 << 30

    def empty_but_us(self, timeout: float = 5.0) -> bool:
        """SIGKILL every member but this process (whose launcher thread sits here) until none is left."""
        deadline = time.monotonic() + timeout
        me = os.getpid()
        while True:
            members = [pid for pid in self.pids() if pid != me]
            if not members:
                return True
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)

    def destroy(self, timeout: float = 5.0) -> None:
        """SIGKILL every member until the cgroup is empty, then remove it.

        Never this process: a launcher thread that just stopped may still be listed for a moment.
        """
        deadline = time.monotonic() + timeout
        me = os.getpid()
        kill_file = self.path / "cgroup.kill"  # cgroup v2 (Linux 5.14+): one write kills all
        while True:
            members = [pid for pid in self.pids() if pid != me]
            if not members:
                break
            if kill_file.exists() and me not in self.pids():
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
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return  # a zombie not yet reaped; the kernel frees the cgroup once it is
                time.sleep(0.001)


class Launcher:
    """A thread parked in one pids cgroup (v1: ``tasks`` takes a thread) that forks sandboxes.

    It runs nothing but the ``subprocess.Popen`` calls handed to it, so everything in its
    cgroup besides itself belongs to the sandbox it is lent to.
    """

    def __init__(self, cgroup: PidsCgroup) -> None:
        self.cgroup = cgroup
        self._requests: queue.SimpleQueue[tuple[Callable[[], Any], list[Any], threading.Event] | None] = \
            queue.SimpleQueue()
        self._ready = threading.Event()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._serve, name="skillctl-launcher", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _serve(self) -> None:
        try:
            (self.cgroup.path / "tasks").write_text(str(threading.get_native_id()))
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        while True:
            request = self._requests.get()
            if request is None:
                return
            fn, box, done = request
            try:
                box.append((True, fn()))
            except BaseException as exc:  # handed back to the caller, raised in its thread
                box.append((False, exc))
            done.set()

    def call(self, fn: Callable[[], T]) -> T:
        box: list[tuple[bool, Any]] = []
        done = threading.Event()
        self._requests.put((fn, box, done))
        done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self._requests.put(None)
        self._thread.join(5)
        self.cgroup.destroy()


_IDLE: list[Launcher] = []
_ALL: list[Launcher] = []
_POOL_LOCK = threading.Lock()


class PidsScope:
    """The pids cgroup one sandbox runs in, from its first process until all are killed."""

    def __init__(self, cgroup: PidsCgroup, launcher: Launcher | None) -> None:
        self.cgroup, self.launcher = cgroup, launcher
        self.inner_first = False  # bwrap: kill what runs inside it first, so that it reaps them

    @classmethod
    def open(cls, max_pids: int) -> PidsScope | None:
        """A scope bounding the sandbox to *max_pids* processes, or None (not root, no controller)."""
        base = _hierarchy()
        if base is None:
            return None
        if not (base / "cgroup.controllers").is_file():  # v1: lend a parked launcher
            launcher = _lend(max_pids)
            if launcher is not None:
                return cls(launcher.cgroup, launcher)
        cgroup = PidsCgroup.create(max_pids)
        return cls(cgroup, None) if cgroup is not None else None

    def popen(self, argv: list[str], preexec: Callable[[], None] | None, **kwargs: Any) -> subprocess.Popen:
        """Start the sandbox's first process inside the cgroup (it joins before it can fork)."""
        if self.launcher is not None:
            return self.launcher.call(lambda: subprocess.Popen(argv, preexec_fn=preexec, **kwargs))
        cgroup = self.cgroup

        def joining() -> None:
            cgroup.join()  # first, while still root: the privilege drop comes after
            if preexec is not None:
                preexec()

        return subprocess.Popen(argv, preexec_fn=joining, **kwargs)

    def kill(self, spare: int | None = None) -> None:
        """SIGKILL everything in the sandbox now but *spare* (bwrap, so it reaps the rest)."""
        keep = (os.getpid(), spare)
        for pid in self.cgroup.pids():
            if pid not in keep:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill everything the sandbox left; an emptied launcher waits for the next sandbox."""
        launcher = self.launcher
        if launcher is None:
            self.cgroup.destroy()
        elif self.cgroup.empty_but_us() and self.cgroup.charged() <= 1 + MAX_ZOMBIES:
            with _POOL_LOCK:
                _IDLE.append(launcher)
        else:
            _retire(launcher)  # a member would not die, or too many zombies: never lend it again


def _lend(max_pids: int) -> Launcher | None:
    """An idle launcher (or a new one) whose cgroup now allows *max_pids* more processes."""
    while True:
        with _POOL_LOCK:
            launcher = _IDLE.pop() if _IDLE else None
        fresh = launcher is None
        if launcher is None:
            launcher = _new_launcher()
            if launcher is None:
                return None
        try:
            # The launcher thread and the zombies of earlier sandboxes (see ``close``) are
            # charged too; the sandbox gets its own budget on top of them.
            launcher.cgroup.set_max(max_pids + launcher.cgroup.charged())
            return launcher
        except OSError:
            _retire(launcher)
            if fresh:
                return None


def _new_launcher() -> Launcher | None:
    cgroup = PidsCgroup.create(1)
    if cgroup is None:
        return None
    try:
        launcher = Launcher(cgroup)
    except OSError:
        cgroup.destroy()
        return None
    with _POOL_LOCK:
        if not _ALL:
            atexit.register(_stop_launchers)
        _ALL.append(launcher)
    return launcher


def _retire(launcher: Launcher) -> None:
    with _POOL_LOCK:
        if launcher in _ALL:
            _ALL.remove(launcher)
        if launcher in _IDLE:
            _IDLE.remove(launcher)
    launcher.stop()


def _stop_launchers() -> None:
    with _POOL_LOCK:
        launchers = list(_ALL)
        _ALL.clear()
        _IDLE.clear()
    for launcher in launchers:
        launcher.stop()


@functools.cache
def sweep_stale_cgroups() -> int:
    """Remove cgroups left by a skillctl that was SIGKILLed, killing what still runs in them.

    Only ``skillctl-<pid>.<start ticks>-*`` directories whose owner (pid *and* start time) is
    gone, and ``skillctl-<pid>-*`` ones (older skillctl) whose pid is; bwrap dies with its
    parent, but a fallback check does not.
    """
    base = _hierarchy()
    if base is None:
        return 0
    removed = 0
    for entry in os.scandir(base):
        name = entry.name
        if not name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        owner = name[len(PREFIX):].split("-", 1)[0]
        pid_text, dot, ticks = owner.partition(".")
        if not pid_text.isdigit() or (dot and not ticks.isdigit()):
            continue
        alive = start_ticks(int(pid_text))
        if alive is not None and (alive == ticks or not dot):  # unstamped (older skillctl): any live pid
            continue
        PidsCgroup(Path(entry.path)).destroy(timeout=1.0)
        removed += not os.path.exists(entry.path)
    return removed
