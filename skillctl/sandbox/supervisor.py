"""Runs every check of one skill inside ONE sandbox, each as if it had a sandbox of its own.

Starting bwrap costs more than a trivial check, so instead of one sandbox per check the
sandbox runs this supervisor (``python -I -S -c <this file>``, stdlib only, nothing from the
skill on ``sys.path``), which runs the checks one after another and reports each on stdout as
one line. Per check it keeps what a sandbox of its own gave: a fresh copy of the skill folder
on a size-capped tmpfs, its own ``$HOME`` and ``$TMPDIR``, its own deadline with a kill of
everything it started (the pid namespace is private, so "everything" is every process but this
one), and capped, fully drained output.

The supervisor is the first process in the sandbox. When skillctl runs as root it starts as
root with only CAP_SETUID/CAP_SETGID and drops to the unprivileged uid before reading any
input, so no check ever runs with root's uid. It then makes itself non-dumpable, so a check
(same uid) cannot open its file descriptors through /proc to forge another check's result;
where it cannot (no ctypes), it runs none of several checks and reports each as an error.
Checks of one skill share one sandbox, never checks of two skills.

Its start-up is paid once per sandbox, so it imports only builtin modules (no ``subprocess``,
``json``, ``shutil``: they pull in ``re``, ``enum`` and ``typing`` and would triple the start).
The job arrives as ``marshal`` data from skillctl (trusted); each result leaves as one line of
space-separated fields with base64 streams, which skillctl parses defensively.
"""

from __future__ import annotations

import binascii
import marshal
import os
import select
import stat
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TAIL = 4096
PR_SET_DUMPABLE = 4
SIGKILL, SIGPIPE, SIGXFSZ = 9, 13, 25  # Linux numbers; the signal module would import enum
DONE = b"D\n"


def _drop(ids: list[int] | None) -> None:
    if ids:
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("could not drop root")


def _undumpable() -> bool:
    """Make this process non-dumpable; False when that cannot be done (no ctypes here)."""
    try:
        import ctypes

        return bool(ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except Exception:
        return False


def _kill_others() -> None:
    """SIGKILL every process in this pid namespace except ourselves (pid 1: bwrap runs us as its init)."""
    me = os.getpid()
    for _ in range(50):
        alive = 0
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in (1, me):
                try:
                    os.kill(int(name), SIGKILL)
                    alive += 1
                except (ProcessLookupError, PermissionError):
                    pass
        _reap()
        if not alive:
            return
        time.sleep(0.002)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Sink:
    """One stream of a check: its first *cap* bytes, its last TAIL bytes and its total size."""

    def __init__(self, cap: int) -> None:
        self.cap, self.head, self.tail, self.total = cap, bytearray(), b"", 0

    def add(self, data: bytes) -> None:
        if len(self.head) < self.cap:
            self.head += data[: self.cap - len(self.head)]
        self.tail = (self.tail + data)[-TAIL:]
        self.total += len(data)


def _b64(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False) if data else b"-"


def copy_tree(src: str, dst: str) -> None:
    """``cp -RPp`` without the process: files, folders and symlinks (never followed), with
    their modes and modification times (a ``make`` in a check must see the same ordering)."""
    os.mkdir(dst, 0o700)
    with os.scandir(src) as entries:
        for entry in entries:
            s, d = entry.path, os.path.join(dst, entry.name)
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(s), d)
                continue
            if stat.S_ISDIR(st.st_mode):
                copy_tree(s, d)
            elif stat.S_ISREG(st.st_mode):
                _copy_file(s, d, st.st_size)
            else:
                continue  # skillctl refused special files before the copy; never open one here
            os.chmod(d, stat.S_IMODE(st.st_mode))
            os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns))
    st = os.stat(src)
    os.chmod(dst, stat.S_IMODE(st.st_mode))


def _copy_file(src: str, dst: str, size: int) -> None:
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            left = size
            while left > 0:
                sent = os.sendfile(fout, fin, None, left)
                if sent == 0:
                    break
                left -= sent
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def remove_tree(path: str) -> None:
    """Remove what a check left, even folders it made unwritable (same uid: we may chmod them).

    Iterative: a check may leave a tree deeper than Python's recursion limit. The twin of
    ``skillctl.safecopy.remove_tree``, which this stdlib-only file cannot import; unlike it,
    every ``OSError`` is ignored, so one stubborn leftover never stops the next check.
    """
    stack = [(path, False)]
    while stack:
        current, emptied = stack.pop()
        try:
            if emptied:
                os.rmdir(current)
                continue
            st = os.lstat(current)
            if not stat.S_ISDIR(st.st_mode):
                os.unlink(current)
                continue
            os.chmod(current, 0o700)
            stack.append((current, True))
            stack.extend((os.path.join(current, name), False) for name in os.listdir(current))
        except OSError:
            continue


def _which(name: str, env: dict[str, str]) -> str:
    """Resolve like ``execvp`` with the check's own PATH (posix_spawnp would use ours)."""
    if "/" in name:
        return name
    for folder in env.get("PATH", "").split(os.pathsep):
        path = os.path.join(folder or ".", name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(2, "No such file or directory", name)


def _pump(pid: int, fds: dict[int, Sink], deadline: float) -> tuple[bool, int | None]:
    """Drain both pipes until the check exits (then take what is buffered and stop: a
    background child may hold the pipes open) or its deadline passes.

    Returns (timed out, wait status if the check was reaped here).
    """
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    pidfd = -1
    try:
        pidfd = os.pidfd_open(pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):  # Linux < 5.3: notice the exit at the next tick
        pass
    open_fds = set(fds)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True, None
            tick = 0.25 if open_fds or pidfd >= 0 else 0.01
            for fd, _event in poller.poll(min(remaining, tick) * 1000):
                if fd == pidfd:
                    continue
                data = os.read(fd, 65536)
                if data:
                    fds[fd].add(data)
                else:
                    poller.unregister(fd)
                    open_fds.discard(fd)
            reaped, status = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                _drain(open_fds, fds)
                return False, status
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def _drain(open_fds: set[int], fds: dict[int, Sink]) -> None:
    """The main process exited: take what is already in the pipes, do not wait for holders."""
    for fd in open_fds:
        os.set_blocking(fd, False)
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not data:
                break
            fds[fd].add(data)


def _run_one(i: int, spec: dict[str, Any], job: dict[str, Any], devnull: int) -> bytes:
    base = os.path.join(job["run"], str(i))
    work, home, tmp = os.path.join(base, "skill"), os.path.join(base, "home"), os.path.join(base, "tmp")
    out, err = Sink(job["cap"]), Sink(job["cap"])
    start = time.monotonic()
    code: int | None = None
    sig: int | None = None
    timed_out = False
    error = b""
    try:
        os.mkdir(base, 0o700)
        copy_tree(job["src"], work)
        os.mkdir(home, 0o700)
        os.mkdir(tmp, 0o700)
    except OSError as exc:
        error = f"cannot prepare the check's copy of the skill: {exc}".encode()
    if not error:
        env = dict(spec["env"], HOME=home, TMPDIR=tmp)
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        pid = 0
        try:
            os.chdir(work)
            pid = os.posix_spawn(_which(spec["argv"][0], env), spec["argv"], env, setsid=True,
                                 setsigdef=(SIGPIPE, SIGXFSZ),
                                 file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, w_out, 1),
                                               (os.POSIX_SPAWN_DUP2, w_err, 2)])
        except OSError as exc:
            error = f"cannot start: {exc}".encode()
        finally:
            os.chdir("/")
            os.close(w_out)
            os.close(w_err)
        if pid:
            timed_out, status = _pump(pid, {r_out: out, r_err: err}, start + spec["timeout"])
            try:  # noqa: SIM105 (contextlib would add its imports to every sandbox's start)
                os.killpg(pid, SIGKILL)  # the check first: its own exit status is the one recorded
            except OSError:
                pass
            if status is None:
                status = os.waitpid(pid, 0)[1]
            _kill_others()  # background children, setsid'd escapees: nothing outlives its check
            rc = os.waitstatus_to_exitcode(status)
            code, sig = (None, -rc) if rc < 0 else (rc, None)
        os.close(r_out)
        os.close(r_err)
    duration = time.monotonic() - start
    remove_tree(base)  # the tmpfs cap is per check: free it for the next
    fields = [b"R", str(i).encode(), b"-" if code is None else str(code).encode(),
              b"-" if sig is None else str(sig).encode(), b"1" if timed_out else b"0", repr(duration).encode(),
              str(out.total).encode(), _b64(bytes(out.head)), _b64(out.tail),
              str(err.total).encode(), _b64(bytes(err.head)), _b64(err.tail), _b64(error)]
    return b" ".join(fields) + b"\n"


UNGUARDED = b"the supervisor cannot make itself non-dumpable here, so one check could write another's report: " \
            b"not run"


def main() -> None:
    job = marshal.loads(sys.stdin.buffer.read())
    _drop(job.get("drop"))
    guarded = _undumpable()
    report = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # nothing a check inherits by accident reaches skillctl
        os.dup2(devnull, fd)
    try:
        for i, spec in enumerate(job["checks"]):
            if guarded or len(job["checks"]) == 1:
                _write_all(report, _run_one(i, spec, job, devnull))
            else:  # fail closed: a check whose verdict another could forge is no evidence
                _write_all(report, b"R %d - - 0 0.0 0 - - 0 - - %s\n" % (i, _b64(UNGUARDED)))
        _write_all(report, DONE)
    except BrokenPipeError:  # skillctl is gone: nobody is left to report to
        os._exit(1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


if __name__ == "__main__":
    main()
