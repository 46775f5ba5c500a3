"""Copying a folder someone else may be changing while it is copied, without following anything.

skillctl copies skill folders in three places: ``import`` (from an agent's folder, which the
agent or a hub download may still be writing), ``sync`` (a verified skill into an agent's
folder) and the sandbox (a skill into a check's scratch copy, as root when skillctl runs as
root). Copying by path, as ``shutil`` does, re-resolves every path component at the moment of
each copy: a file swapped for a symlink to ``~/.ssh/id_rsa`` or ``/etc/shadow`` after it was
inspected is read through the link, a folder swapped for a symlink is entered, a FIFO or
``/dev/zero`` swapped in hangs or fills the disk. So ``copy_tree``:

- opens each folder relative to its parent's descriptor with ``O_NOFOLLOW`` (the source
  itself must be a real path: every component is opened the same way), so nothing reached by
  a link is ever read, whenever the link appeared;
- copies a symlink as a link (its text, read once), never what it points to;
- opens a file with ``O_NOFOLLOW | O_NONBLOCK`` and copies it only if ``fstat`` of the open
  descriptor says it is a regular file, counting bytes as it reads them against the caps (a
  file that grew after it was measured is caught while it is read, not after);
- never sets setuid, setgid or sticky bits on a copy (as root that would mint a setuid-root
  file from a hostile one): the permission bits are kept, the special ones dropped;
- walks iteratively, one open descriptor per level, so depth is no problem.

A copy that cannot be made exactly raises ``InputError`` (SK017 for a special file, SK019 for
a cap) and leaves a partial *dest* for the caller to remove.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skillctl.errors import InputError
from skillctl.safeio import NOT_REGULAR, kind_of

OVER_CAP = "SK019"
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Caps:
    """What a copy may hold at most (None: no cap)."""

    file_bytes: int | None = None
    total_bytes: int | None = None  # over all regular files
    files: int | None = None  # regular files and symlinks (folders are not counted)


def open_real_dir(path: Path | str) -> int:
    """A descriptor of the folder *path*, opened one component at a time without following a link.

    *path* must be absolute and free of symlinks (a resolved path); if any component is a
    symlink now, that is a change made since it was resolved, and the open fails (ELOOP or
    ENOTDIR) instead of going where the link points.
    """
    path = os.fspath(path)
    if not os.path.isabs(path):
        raise ValueError(f"not an absolute path: {path}")
    fd = os.open("/", _DIR)
    try:
        for part in (p for p in path.split("/") if p):
            nxt = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def copy_tree(src: Path | str, dest: Path | str, *, caps: Caps = Caps(), keep_times: bool = False,
              skip_special: bool = False, skip_names: frozenset[str] = frozenset(),
              skip_dirs: frozenset[str] = frozenset()) -> None:
    """Copy the folder *src* (a resolved path) to the new folder *dest*; see the module docstring.

    *keep_times*: files and folders keep their modification times. *skip_special*: a FIFO,
    socket or device is left out instead of refused. *skip_names*: names (at any depth) not
    copied, such as ``.git``; *skip_dirs*: the same for folders only (a ``.git`` *file*, a
    submodule's pointer, is content the digest counts).
    """
    src_fd = open_real_dir(src)
    # one (descriptor, destination, entries still to copy) per level of the folder being walked
    stack: list[tuple[int, str, Iterator[tuple[str, os.stat_result]]]] = [(src_fd, os.fspath(dest), _entries(src_fd))]
    dirs: list[tuple[str, os.stat_result]] = []
    counted = [0, 0]  # files and links, bytes
    try:
        os.mkdir(dest, 0o700)
        dirs.append((os.fspath(dest), os.fstat(src_fd)))
        while stack:
            fd, out, todo = stack[-1]
            step = next(todo, None)
            if step is None:
                os.close(fd)
                stack.pop()
                continue
            name, st = step
            if name in skip_names or (name in skip_dirs and stat.S_ISDIR(st.st_mode)):
                continue
            target = f"{out}/{name}"
            if not stat.S_ISDIR(st.st_mode):
                counted[0] += 1
                if caps.files is not None and counted[0] > caps.files:
                    raise InputError(f"more than {caps.files} files; not copied", path=Path(src), code=OVER_CAP)
            if stat.S_ISDIR(st.st_mode):
                child = os.open(name, _DIR, dir_fd=fd)
                try:
                    os.mkdir(target, 0o700)
                    dirs.append((target, os.fstat(child)))
                except BaseException:
                    os.close(child)
                    raise
                stack.append((child, target, _entries(child)))
            elif stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(name, dir_fd=fd), target)
            elif stat.S_ISREG(st.st_mode):
                _copy_file(fd, name, target, caps, counted, keep_times, Path(out) / name)
            elif not skip_special:
                raise InputError(f"is {kind_of(st.st_mode)}, not a regular file, folder or symlink; not copied",
                                 path=Path(out) / name, code=NOT_REGULAR)
    finally:
        for fd, _out, _todo in stack:
            os.close(fd)
    for path, st in reversed(dirs):  # deepest first: a read-only folder is made so after its contents
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o777)
        if keep_times:
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _entries(fd: int) -> Iterator[tuple[str, os.stat_result]]:
    """(name, lstat) of each entry of the open folder *fd*, listed at once (the folder may change)."""
    with os.scandir(fd) as it:
        listed = [e.name for e in it]
    for name in listed:
        try:
            yield name, os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed since it was listed: not part of the copy


def _copy_file(dir_fd: int, name: str, target: str, caps: Caps, counted: list[int], keep_times: bool,
               shown: Path) -> None:
    try:
        fd_in = os.open(name, _FILE, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # swapped for a symlink, or a socket
            raise InputError("changed into a symlink or special file while being copied; not copied", path=shown,
                             code=NOT_REGULAR) from None
        raise
    try:
        st = os.fstat(fd_in)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"is {kind_of(st.st_mode)}, not a regular file; not copied", path=shown,
                             code=NOT_REGULAR)
        os.set_blocking(fd_in, True)
        fd_out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            size = 0
            while True:  # in the kernel (no buffer here), never a byte past a cap: the file may be growing
                want = _CHUNK
                if caps.file_bytes is not None:
                    want = min(want, caps.file_bytes - size + 1)
                if caps.total_bytes is not None:
                    want = min(want, caps.total_bytes - counted[1] + 1)
                sent = os.sendfile(fd_out, fd_in, None, want)
                if not sent:
                    break
                size += sent
                counted[1] += sent
                if caps.file_bytes is not None and size > caps.file_bytes:
                    raise InputError(f"larger than {caps.file_bytes} bytes; not copied", path=shown, code=OVER_CAP)
                if caps.total_bytes is not None and counted[1] > caps.total_bytes:
                    raise InputError(f"the folder holds more than {caps.total_bytes} bytes; not copied", path=shown,
                                     code=OVER_CAP)
            os.fchmod(fd_out, stat.S_IMODE(st.st_mode) & 0o777)
            if keep_times:
                os.utime(fd_out, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


def remove_tree(path: Path | str) -> None:
    """Remove a copy this module made (or began), read-only folders included, following no link.

    A copy keeps its source's modes, so a folder may be read-only, which ``shutil.rmtree``
    cannot empty; iterative, like the copy, so depth is no problem either. The sandbox
    supervisor has its own copy of this loop (``sandbox/supervisor.py``: it runs as
    ``python -I -S`` and may import nothing of skillctl) that ignores every ``OSError``, since a
    check's leftovers must never stop the next check; here only a vanished entry is ignored.
    """
    stack: list[tuple[str, bool]] = [(os.fspath(path), False)]
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
        except FileNotFoundError:
            continue
