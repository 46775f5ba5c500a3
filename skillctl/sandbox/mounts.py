"""Private, capped writable space for the fallback, where a mount namespace can be made.

Without bwrap a check used to see (and, where its uid may, write) the host as it is: a shared
``/tmp`` another check could read, and scratch space bounded per file only. Where this process
may make a mount namespace (root; or a normal user with unprivileged user namespaces, which is
also the usual way bwrap runs, so this helps most where only bwrap's binary is missing), the
check's first process enters a new one and, before it runs anything of the check:

1. makes every mount of the host read-only and private (``mount_setattr``, Linux 5.12+), so
   nothing it does propagates back;
2. mounts a fresh size-capped tmpfs on ``/tmp``, ``/var/tmp`` and ``/dev/shm``, private to
   this check;
3. binds skillctl's scratch copy back (read-only) if one of those tmpfs covered it, and
   mounts a capped tmpfs on its ``run`` folder, where ``cp`` then puts the check's working
   copy, ``$HOME`` and ``$TMPDIR``;
4. enters a new pid namespace with a ``/proc`` of its own. Without it the host's ``/proc``
   stays visible, and ``/proc/<pid>/root`` of any process of the same uid leads into that
   process's mounts: another check's private ``/tmp`` (as root every check is ``nobody``),
   or, for a skillctl run as a normal user, skillctl's own writable view of the host. The
   process skillctl started stays outside and stands for the check (its exit status is the
   check's); inside, a small init (pid 1) waits for the check, so that when the check exits
   everything it left running dies with the namespace, as under bwrap.

Everything the check can write is then in tmpfs mounts that belong to its namespace: capped,
unseen by other checks, and gone with its last process; and no process outside is in reach.
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import select
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skillctl.sandbox.base import _libc

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x1000, 0x4000, 0x40000
MS_RDONLY = 0x1
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscalls share one table)
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY = 0x1
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


@dataclass(frozen=True)
class Layout:
    """What one check's namespace gets: the scratch dir skillctl prepared and the cap of each tmpfs."""

    scratch: Path
    size_mb: int


def _check(result: int, libc: ctypes.CDLL, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _readonly(libc: ctypes.CDLL, path: bytes, recursive: bool, private: bool) -> None:
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, MS_PRIVATE if private else 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    result = libc.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), ctypes.c_char_p(path),
                          ctypes.c_uint(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
    _check(result, libc, f"mount_setattr {path.decode()}")


def _tmpfs(libc: ctypes.CDLL, target: bytes, size_mb: int) -> None:
    options = f"size={size_mb * 1024 * 1024},mode=1777".encode()
    _check(libc.mount(b"tmpfs", target, b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV), options), libc,
           f"tmpfs on {target.decode()}")


def enter(layout: Layout, *, as_root: bool, extra_flags: int = 0) -> Callable[[], None]:
    """The steps above, as a function for the child to run between fork and exec (plain syscalls).

    As a normal user the namespace is owned by a new user namespace mapping only this uid; its
    capabilities exist only until the exec. The function returns only in the process that goes
    on to exec the check (born in the new pid namespace); the two above it never return.
    """
    libc = _libc()
    parent = os.getpid()
    uid, gid = os.getuid(), os.getgid()
    scratch = os.fsencode(layout.scratch)
    covered = [d for d in PRIVATE_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    hidden = any(layout.scratch == Path(d) or Path(d) in layout.scratch.parents for d in covered)
    targets = [os.fsencode(d) for d in covered]
    run = os.fsencode(layout.scratch / "run")

    def preexec() -> None:
        flags = CLONE_NEWNS | CLONE_NEWPID | extra_flags | (0 if as_root else CLONE_NEWUSER)
        _check(libc.unshare(flags), libc, "unshare")
        if not as_root:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
                try:
                    os.write(fd, text.encode())
                finally:
                    os.close(fd)
        _readonly(libc, b"/", recursive=True, private=True)
        keep = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
        try:
            for target in targets:
                _tmpfs(libc, target, layout.size_mb)
            if hidden:
                os.makedirs(scratch, 0o711, exist_ok=True)
                _check(libc.mount(f"/proc/self/fd/{keep}".encode(), scratch, None, ctypes.c_ulong(MS_BIND | MS_REC),
                                  None), libc, "bind scratch")
                _readonly(libc, scratch, recursive=True, private=False)
        finally:
            os.close(keep)
        _tmpfs(libc, run, layout.size_mb)
        # Like bwrap's --die-with-parent: a SIGKILLed skillctl takes this process, and with it
        # the namespace, along (checked after setting it: skillctl may already be gone).
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
        _spawn_init(libc)

    return preexec


def _spawn_init(libc: ctypes.CDLL) -> None:
    """Fork the new pid namespace's init; return in its child, the check (see the module docstring).

    This process stays outside and, once the check is over, ends the way the check did (its
    exit code, or the signal that killed it), which is what skillctl records. Neither it nor
    the init keeps any descriptor of skillctl's (they never exec, so nothing closes them for
    them), and the init, which a check can see as pid 1 and which may share its uid, is not
    dumpable: no ``/proc/1/fd`` or ``ptrace`` way back out.
    """
    report_r, report_w = os.pipe()  # init -> here: the check's wait status
    alive_r, alive_w = os.pipe()  # here -> init: closed only when this process is gone
    init = os.fork()
    if init:
        _close_all_but(report_r, alive_w)
        _, status = os.waitpid(init, 0)
        got = os.read(report_r, 32)
        _end_like(int(got) if got.strip().isdigit() else status)
    os.close(report_r)
    os.close(alive_w)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the stand-in gone: so is all this
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if os.getpid() != 1 or select.select([alive_r], [], [], 0)[0]:
        os._exit(1)  # no pid namespace after all, or the stand-in died before we could notice: never run
    _proc_mount(libc)
    check = os.fork()
    if check == 0:
        os.close(report_w)
        return  # the check: on to the privilege drop, the rlimits and the exec
    _close_all_but(report_w)
    status = 1 << 8
    while True:  # pid 1 reaps every orphan of the namespace until the check itself exits
        try:
            pid, st = os.wait()
        except ChildProcessError:
            break
        if pid == check:
            status = st
            break
    os.write(report_w, str(status).encode())
    os._exit(0)  # and everything the check left running dies with the namespace


def _close_all_but(*keep: int) -> None:
    """Close every descriptor above stderr except *keep* (``close_range`` where the kernel has it)."""
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _proc_mount(libc: ctypes.CDLL) -> None:
    """``/proc`` of the new pid namespace; where a fresh procfs may not be mounted (a container
    that masks parts of its own), an empty read-only one: the host's must not stay in view."""
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if libc.mount(b"proc", b"/proc", b"proc", ctypes.c_ulong(flags), None) != 0:
        _check(libc.mount(b"tmpfs", b"/proc", b"tmpfs", ctypes.c_ulong(flags | MS_RDONLY), b"size=4096,mode=0555"),
               libc, "cover /proc")


def _end_like(status: int) -> None:
    """Exit as the check did: its exit code, or its own death by the same signal (no core file)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if sig not in (signal.SIGKILL, signal.SIGSTOP):  # these two have no handler to reset
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
            os.kill(os.getpid(), sig)
        finally:
            os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


@functools.cache
def available() -> str:
    """'' when private mounts work here (tried once, as a check would use them), else why not."""
    base = Path(tempfile.mkdtemp(prefix="skillctl-probe-mounts-"))
    try:
        (base / "run").mkdir()
        preexec = enter(Layout(base, 1), as_root=os.geteuid() == 0)
        probe = f"test -d {base}/run && touch {base}/run/ok && ! touch {base}/no 2>/dev/null"
        proc = subprocess.run(["sh", "-c", probe], preexec_fn=preexec, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"no private mounts: {exc}"
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if proc.returncode != 0:
        return f"no private mounts: {proc.stderr.decode('utf-8', 'replace').strip()[-200:] or 'probe failed'}"
    return ""
