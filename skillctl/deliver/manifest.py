"""The manifest: what skillctl wrote into one target folder, so it only ever removes its own.

An agent folder is shared with the user and other tools. The manifest
(``.skillctl-manifest.json`` inside the target) records each folder skillctl created, with the
digest of what it wrote; before a folder is replaced or removed its current digest must match
(or, for a link, it must still be the link skillctl made). A manifest that does not parse, or an
entry whose folder no longer matches, therefore proves nothing, and nothing is deleted on its
word: a hand-edited manifest can stop skillctl from cleaning up, never make it delete a user's
folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.lock import atomic_write, copy_digests, leaves, skill_digest
from skillctl.repo import SYNC_MANIFEST, settled, wall_clock_ns
from skillctl.safeio import walk

MANIFEST_NAME = SYNC_MANIFEST
MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


@dataclass
class Entry:
    """One folder skillctl wrote: the digest written, copy or link, and a stat fingerprint.

    ``prior`` is the digest the folder had before an update that may not have finished (the
    manifest is written before the folders change), so an interrupted sync still recognises
    its own folder on the next run. ``stamp`` lets an unchanged folder be trusted without
    re-reading every file (sizes, mtimes and inodes of all files; any edit changes it).
    ``written`` is the digest of the copy itself (``skill_digest(copy, root=copy)``): it differs
    from ``digest`` (the verified skill's) when links leaving the skill folder were copied as
    the files they point to (``lock.copy_digests``). "" in entries of older manifests, whose
    copies may still hold such links (``legacy_links``).
    """

    digest: str
    mode: str = "copy"
    source: str = ""
    prior: str | None = None
    stamp: str = ""
    written: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"digest": self.digest, "mode": self.mode, "source": self.source, "stamp": self.stamp}
        if self.prior:
            data["prior"] = self.prior
        if self.written:
            data["written"] = self.written
        return data


@dataclass
class Manifest:
    path: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # entries ignored, with why

    def save(self) -> None:
        data = {"version": MANIFEST_VERSION, "written_by": "skillctl",
                "skills": {name: e.to_json() for name, e in sorted(self.entries.items())}}
        atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def safe_folder_name(name: str) -> bool:
    """A name usable as one folder directly inside a target: no separators, dots or NULs."""
    return bool(name) and name not in (".", "..") and not name.startswith(".") and "/" not in name \
        and "\\" not in name and "\0" not in name and len(name.encode()) <= 255


def read_manifest(target: Path) -> Manifest:
    """The target's manifest; absent -> empty. Corrupt -> InputError (the target is refused)."""
    path = target / MANIFEST_NAME
    manifest = Manifest(path)
    if not path.exists() and not path.is_symlink():
        return manifest
    if path.is_symlink() or not path.is_file():
        raise InputError("manifest is not a regular file; refusing to trust or replace it", path=path,
                         code="SC062")
    try:
        raw = path.read_bytes()[: MAX_MANIFEST_BYTES + 1]
    except OSError as exc:
        raise InputError(f"cannot read manifest: {exc.strerror}", path=path, code="SC062") from None
    try:
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ValueError("implausibly large")
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"manifest is corrupt ({exc}); nothing in this target is touched until it is "
                         "fixed or removed", path=path, code="SC062") from None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION or not isinstance(
            data.get("skills"), dict):
        raise InputError("manifest is not a skillctl manifest of version 1; nothing in this target is touched",
                         path=path, code="SC062")
    for name, value in data["skills"].items():
        if not isinstance(name, str) or not safe_folder_name(name):
            manifest.problems.append(f"manifest entry {name!r} is not a plain folder name: ignored")
            continue
        if not isinstance(value, dict) or not isinstance(value.get("digest"), str) or \
                value.get("mode", "copy") not in ("copy", "link"):
            manifest.problems.append(f"manifest entry {name!r} is malformed: ignored")
            continue
        prior, written = value.get("prior"), value.get("written")
        manifest.entries[name] = Entry(digest=value["digest"], mode=value.get("mode", "copy"),
                                       source=str(value.get("source", "")),
                                       prior=prior if isinstance(prior, str) else None,
                                       stamp=str(value.get("stamp", "")),
                                       written=written if isinstance(written, str) else "")
    return manifest


def stamp(folder: Path) -> str:
    """``lstat`` of every file and folder under *folder*, without reading contents ("" when
    it cannot stand for them).

    On the no-change path sync stamps every managed folder of every target, so this works on
    strings and one ``lstat`` per entry (no Path objects, no relpath). It must change whenever
    the digest may have, so it holds what an edit cannot keep: the inode change time (``touch
    -r`` restores a file's mtime after an in-place edit of the same size, never its ctime; a
    ``chmod +x``, which the digest counts, changes only the ctime) and the mode. A symlink adds
    what it points to, as the digest reads through it (a shared file elsewhere in the repo
    turning malicious changes no ``lstat`` inside the folder); a link to a folder makes the
    stamp "", which is never trusted. So does any entry changed within ``repo.RACY_NS``: a
    folder stamped right after sync wrote it could be edited again within the same clock tick
    and keep the stamp, so its first stamp is taken on a later run (``owned``).
    """
    top = os.fspath(folder)
    now = wall_clock_ns()
    try:
        st = os.lstat(top)
        if stat_mod.S_ISLNK(st.st_mode):
            return f"link:{os.readlink(top)}"
        if not stat_mod.S_ISDIR(st.st_mode) or not settled(st, now):
            return ""
        parts = [f".:{st.st_mode}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"]
        cut = len(top) + 1
        stack = [top]
        while stack:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    s = entry.stat(follow_symlinks=False)
                    if not settled(s, now):
                        return ""
                    parts.append(f"{entry.path[cut:]}:{s.st_mode}:{s.st_size}:{s.st_mtime_ns}:{s.st_ctime_ns}:"
                                 f"{s.st_ino}")
                    if stat_mod.S_ISDIR(s.st_mode):
                        stack.append(entry.path)
                    elif stat_mod.S_ISLNK(s.st_mode):
                        try:
                            t = os.stat(entry.path)
                        except OSError:
                            parts.append(f"{entry.path[cut:]}>-")  # dangling: the digest refuses it, as before
                            continue
                        if stat_mod.S_ISDIR(t.st_mode) or not settled(t, now):
                            return ""
                        parts.append(f"{entry.path[cut:]}>{t.st_dev}:{t.st_ino}:{t.st_mode}:{t.st_size}:"
                                     f"{t.st_mtime_ns}:{t.st_ctime_ns}")
    except OSError:
        return ""
    parts.sort()
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def owned(folder: Path, entry: Entry) -> bool:
    """Whether *folder* is still exactly what skillctl wrote (so replacing it loses nothing).

    A folder whose recorded stamp no longer matches is digested; when it still holds what was
    written, its stamp (taken *before* the digest read the files, so an edit racing the read
    changes it) is recorded in *entry* for the caller to save. A stamp is "" while the folder
    is too fresh to vouch for (``stamp``), which is never recorded as proof.
    """
    if entry.mode == "link":
        return folder.is_symlink() and os.readlink(folder) == entry.source
    now = stamp(folder)
    if now.startswith("link:"):
        return False
    if now and entry.stamp and now == entry.stamp:
        return True
    expected = entry.written or entry.digest
    try:
        current = skill_digest(folder, root=folder)
    except InputError:
        return False
    if current == expected and entry.prior is None:
        entry.stamp = now
    return current in (expected, entry.prior)


def written_matches(entry: Entry, source: Path | None) -> bool:
    """Is the copy digest the manifest records (``written``) what copying *source* gives?

    The manifest sits in the agent's folder, so an agent can write into it as easily as into
    the copy; a ``written`` of its own choosing would make an edited copy "owned". A plain
    copy's is the skill's digest; any other is checked against the verified source (only
    skills with links leaving their folder have one), and without a source it proves nothing.
    """
    if entry.written in ("", entry.digest):
        return True
    if source is None:
        return False
    try:
        return copy_digests(source) == (entry.digest, entry.written)
    except InputError:
        return False


def legacy_links(folder: Path, entry: Entry) -> bool:
    """Does a copy written before ``Entry.written`` existed hold a link leaving its folder (whose
    relative text points somewhere else in the agent's folder than in the repo)? Sync copies
    such a folder again; one without them gets ``written`` recorded and is never walked again."""
    if entry.mode != "copy" or entry.written:
        return False
    for dirpath, _dirnames, filenames in walk(folder, strict=False):
        for name in filenames:  # links (to folders too) are listed among the files
            path = Path(dirpath) / name
            if path.is_symlink() and leaves(path, folder):
                return True
    entry.written = entry.digest
    return False
