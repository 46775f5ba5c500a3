"""Finding and reading skill folders for the search index: text, loader observation, ``lstat`` signature.

A cold index of a large collection is mostly this: parse each SKILL.md and digest its folder.
Each folder is independent of the others, so when there are many they are read in forked
worker processes (the machine's cores) while the parent parses ``skills.lock``; results come
back in the order asked for, so the index is written the same way whatever the worker count.
The parent never hands a worker its database connection or the lock: workers only read files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillctl.errors import InputError
from skillctl.repo import SKILL_FILE, SKIP_DIRS, SYNC_MANIFEST, settled, stat_identity, wall_clock_ns

if TYPE_CHECKING:
    from skillctl.loader import Observed

# (folder relative to the repo, name, description, body, SKILL.md identity, folder signature,
#  the loader's observation as JSON); identity, signature and observation are None when unreadable
Reading = tuple[str, str, str, str, str | None, str | None, str | None]

PARALLEL_FROM = 2000  # below this, forking workers costs more than it saves
CHUNK = 250


def folder_signature(folder: Path) -> str | None:
    """A hash of ``lstat`` of every entry under *folder* (``.git`` skipped, as the digest does).

    Equal signatures mean the digest need not be recomputed, so each entry's change time is
    in it: an in-place edit of the same size followed by ``touch -r`` keeps the size and the
    mtime, never the ctime (nor does a ``chmod +x``, which the digest counts). None when the folder is or holds
    a symlink (the digest covers the link's target, wherever in the repo it is), cannot be
    listed, or holds an entry changed within ``repo.RACY_NS`` (a same-size rewrite in the same
    clock tick would keep the signature), so the caller always digests it (and the loader
    refuses what it must).
    """
    now = wall_clock_ns()
    try:
        if os.path.islink(folder):
            return None
        parts: list[str] = []
        stack = [str(folder)]
        base = len(str(folder)) + 1
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode) or not settled(st, now):
                        return None
                    if stat.S_ISDIR(st.st_mode):
                        if entry.name == ".git":
                            continue
                        stack.append(entry.path)
                    parts.append(f"{entry.path[base:]}\0{st.st_mode}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:"
                                 f"{st.st_ctime_ns}")
    except OSError:
        return None
    parts.sort()
    return hashlib.sha1("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def read_folder(root: Path, rel: str, ident: str | None) -> Reading:
    """Parse and digest one folder (*ident*: its SKILL.md identity from the walk, None if not cacheable).

    The signature is taken before the files are read, so an edit racing the read leaves a
    signature that no longer matches and the next query digests the folder again. An
    unreadable skill keeps only its folder name (it is still listed by ``--all``, never loadable).
    """
    from skillctl.loader import Observed
    from skillctl.lock import skill_digest
    from skillctl.parse import read_skill

    folder = root / rel if rel else root
    deep = folder_signature(folder)
    try:
        # With an identity, SKILL.md is a regular file reached without any symlink (the walk
        # follows none), so read_skill's containment check could not fail; without one, it runs.
        skill = read_skill(folder, root=None if ident is not None else root)
        # bounded by the repo, as the loader's own observation is (``loader.observe``)
        seen = Observed.from_skill(skill, skill_digest(folder, root=root))
    except InputError:
        return rel, folder.name, "", "", None, None, None
    return rel, skill.name, skill.description, skill.body, ident, deep, observed_json(seen, root)


def _read_task(root: str, item: tuple[str, str | None]) -> Reading:
    return read_folder(Path(root), *item)


@contextlib.contextmanager
def folder_readings(root: Path, todo: list[tuple[str, str | None]]) -> Iterator[Iterator[Reading]]:
    """``read_folder`` of each (rel, identity) in *todo*, lazily and in order.

    Many folders are read by forked workers, one per core; the caller consumes the results
    while they arrive. A worker's exception (a bug: unreadable skills are results) is raised
    in the caller at that folder, and leaving the block stops the workers.
    """
    workers = cores()
    if len(todo) < PARALLEL_FROM or workers < 2 or not can_fork():
        yield (read_folder(root, rel, ident) for rel, ident in todo)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield pool.imap(partial(_read_task, str(root)), todo, chunksize=CHUNK)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """May this process fork workers? Only where fork exists and no other thread is running.

    A thread holding a lock (the import lock, a logging handler's, an allocator's) at the moment
    of the fork leaves that lock held forever in the child, which then hangs. A CLI run is single
    threaded; a host that embeds skillctl (a server, a test runner's worker) may not be, and there
    the work runs in this process instead.
    """
    import multiprocessing
    import threading

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def walk_skills(conn: sqlite3.Connection, root_path: Path) -> dict[str, str | None]:
    """``repo.discover_skills`` with a directory-listing cache: {relative folder: SKILL.md identity}.

    Same rules (a folder holding SKILL.md is a skill and is not searched further, SKIP_DIRS
    skipped, symlinks never followed); a test holds the two equal on messy trees. Each
    candidate folder costs one ``lstat`` of its SKILL.md; only folders that are not skills
    are listed, and only when their own ``lstat`` (inode, mtime) changed. Plain strings, not
    Path objects: this loop runs once per skill on every refresh.
    """
    root = str(root_path)
    now = wall_clock_ns()
    is_skill, ident = _skill_md(root)
    if is_skill:
        return {"": ident}
    cache = {p: (i, s) for p, i, s in conn.execute("SELECT path, ident, subdirs FROM search_dirs")}
    found: dict[str, str | None] = {}
    seen_dirs: set[str] = set()
    stack = [""]
    while stack:
        rel = stack.pop()
        path = f"{root}/{rel}" if rel else root
        if rel:
            is_skill, ident = _skill_md(path)
            if is_skill:
                found[rel] = ident
                continue
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        # with the ctime: a folder renamed away and a symlink put in its place, the parent's
        # mtime restored (touch -r), must not be found through a listing cached before
        # (a folder changed within RACY_NS is listed every time: a second change in the same
        # clock tick would keep its lstat, and a listing cached in between would miss it)
        dir_ident = f"{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}" if settled(st, now) else ""
        hit = cache.get(rel)
        if hit is not None and dir_ident and hit[0] == dir_ident:
            subdirs = json.loads(hit[1])
        else:
            subdirs = _list_dir(path, top=not rel)
            conn.execute("INSERT OR REPLACE INTO search_dirs VALUES (?, ?, ?)",
                         [rel, dir_ident, json.dumps(subdirs)])
        seen_dirs.add(rel)
        stack.extend(f"{rel}/{d}" if rel else d for d in subdirs)
    for gone in cache.keys() - seen_dirs:
        conn.execute("DELETE FROM search_dirs WHERE path = ?", [gone])
    return found

def _skill_md(folder: str) -> tuple[bool, str | None]:
    """(folder holds a SKILL.md that is not a directory, its identity or None when not cacheable)."""
    path = f"{folder}/{SKILL_FILE}"
    try:
        st = os.lstat(path)
    except OSError:
        return False, None
    if stat.S_ISLNK(st.st_mode):
        return not os.path.isdir(path), None
    return not stat.S_ISDIR(st.st_mode), stat_identity(st)


def _list_dir(path: str, top: bool) -> list[str]:
    """The sorted subdirectories to descend into (os.walk's, minus symlinks and SKIP_DIRS); none
    below *top* in a folder ``sync`` manages: its copies are not skills of their own (as in
    ``discover_skills``, whose ``os.walk`` counts a manifest unless it leads to a directory)."""
    try:
        with os.scandir(path) as entries:
            subdirs, synced = [], False
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    if e.name not in SKIP_DIRS:
                        subdirs.append(e.name)
                elif e.name == SYNC_MANIFEST and not top and not e.is_dir():
                    synced = True
    except OSError:
        return []
    return [] if synced else sorted(subdirs)


def observed_json(seen: Observed, root: Path) -> str:
    """The observation, SKILL.md relative to *root* when inside it (string work: once per skill)."""
    skill_md, base = str(seen.skill_md), str(root)
    rel = skill_md[len(base) + 1:] if skill_md.startswith(base + os.sep) else skill_md
    return json.dumps([seen.name, seen.description, rel, seen.has_lifecycle, seen.version, seen.digest])


def observed_from_json(text: str, root: Path) -> Any:
    from skillctl.loader import Observed

    name, description, rel, has_lifecycle, version, digest = json.loads(text)
    return Observed(name, description, root / rel, has_lifecycle, version, digest)
