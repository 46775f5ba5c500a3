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
   copy, ``$HOME`` and ``$TMPDIR``.

Everything the check can write is then in tmpfs mounts that belong to its namespace: capped,
unseen by other checks, and gone with its last process.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skillctl.sandbox.base import _libc

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
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
    capabilities exist only until the exec.
    """
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    scratch = os.fsencode(layout.scratch)
    covered = [d for d in PRIVATE_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    hidden = any(layout.scratch == Path(d) or Path(d) in layout.scratch.parents for d in covered)
    targets = [os.fsencode(d) for d in covered]
    run = os.fsencode(layout.scratch / "run")

    def preexec() -> None:
        flags = CLONE_NEWNS | extra_flags | (0 if as_root else CLONE_NEWUSER)
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

    return preexec


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
