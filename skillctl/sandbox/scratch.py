"""Scratch copies of a skill: where they go, how they are made, and that they never stay.

Each sandbox gets a fresh directory named ``skillctl-check-<pid>-*`` and stamped with its
owner (pid and process start time). It is removed on the way out; a skillctl that was
SIGKILLed cannot do that, so the next start sweeps every such directory whose owner is gone.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import stat
import tempfile
from pathlib import Path

from skillctl.errors import InputError
from skillctl.safeio import walk
from skillctl.sandbox.base import Limits, start_ticks


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


SCRATCH_PREFIX = "skillctl-check-"
OWNER_FILE = ".skillctl-owner"


def make_scratch() -> Path:
    """A fresh scratch dir named and stamped with its owner (pid + start time) for the sweep."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=scratch_base()))
    (scratch / OWNER_FILE).write_text(f"{os.getpid()} {start_ticks(os.getpid())}\n")
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
        if start_ticks(pid) == ticks:
            continue  # its owner is still running
        remove(Path(entry.path))
        removed += 1
    return removed


def copy_skill(folder: Path, dest: Path, limits: Limits | None = None) -> None:
    """Copy a skill folder for its checks, refusing FIFOs, sockets and devices (SK017) rather than
    hanging, and never reading through a link (``safecopy``): as root this copy is made with
    root's rights and then handed to the check, so a file swapped for a link to ``/etc/shadow``
    (or ``/dev/zero``) after the skill was inspected must not be followed. Times and modes are
    kept (a check's ``make`` sees the same ordering); setuid bits are not. With *limits*, the
    copy stops at the scratch cap instead of filling RAM-backed scratch space.
    """
    from skillctl.safecopy import Caps, copy_tree

    caps = Caps(total_bytes=limits.tmpfs_mb * 1024 * 1024) if limits is not None else Caps()
    try:
        # not resolved: verify found this folder by a walk that follows no link, so a symlink
        # on its path now (the folder swapped for a link to /etc) is refused, not followed
        copy_tree(Path(folder).absolute(), dest, caps=caps, keep_times=True)
    except InputError:
        raise
    except FileNotFoundError as exc:
        raise InputError("skill folder disappeared before its checks could run", path=folder) from exc
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise InputError("the skill folder is reached through a symlink (or was just replaced by one); "
                             "not copied", path=folder, code="SK006") from exc
        raise InputError(f"cannot copy skill folder into the sandbox: {exc}", path=folder) from exc


def chown_tree(scratch: Path, owner: tuple[int, int]) -> None:
    """Hand the copy to the sandbox uid; the scratch dir itself and its owner stamp stay ours
    (walkable, not listable), so a check can neither forge a stamp nor get our dir swept."""
    scratch.chmod(0o711)
    for path in scratch.rglob("*"):
        if path != scratch / OWNER_FILE:
            os.lchown(path, *owner)


def remove(scratch: Path) -> None:
    def unlock(func, path, _exc) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(scratch, onerror=unlock)


def refuse_oversized(folder: Path, limits: Limits) -> None:
    """A skill bigger than the per-check scratch cap could never be copied in: say so up front."""
    cap = limits.tmpfs_mb * 1024 * 1024
    total = 0
    for dirpath, _dirs, files in walk(folder, strict=False):  # the copy reports what is missing
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
        if total > cap:
            raise InputError(f"skill folder is larger than the {limits.tmpfs_mb} MiB scratch cap of a check",
                             path=folder, code="SK019")


