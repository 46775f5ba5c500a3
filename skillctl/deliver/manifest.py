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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.lock import atomic_write, skill_digest
from skillctl.repo import SYNC_MANIFEST

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
    """

    digest: str
    mode: str = "copy"
    source: str = ""
    prior: str | None = None
    stamp: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"digest": self.digest, "mode": self.mode, "source": self.source, "stamp": self.stamp}
        if self.prior:
            data["prior"] = self.prior
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
        prior = value.get("prior")
        manifest.entries[name] = Entry(digest=value["digest"], mode=value.get("mode", "copy"),
                                       source=str(value.get("source", "")),
                                       prior=prior if isinstance(prior, str) else None,
                                       stamp=str(value.get("stamp", "")))
    return manifest


def stamp(folder: Path) -> str:
    """Size, mtime and inode of every file and folder under *folder*, without reading contents."""
    parts: list[str] = []
    try:
        st = os.lstat(folder)
        if os.path.islink(folder):
            return f"link:{os.readlink(folder)}"
        parts.append(f".:{st.st_mtime_ns}:{st.st_ino}")
        stack = [folder]
        while stack:
            here = stack.pop()
            with os.scandir(here) as it:
                for entry in it:
                    s = entry.stat(follow_symlinks=False)
                    rel = os.path.relpath(entry.path, folder)
                    parts.append(f"{rel}:{s.st_size}:{s.st_mtime_ns}:{s.st_ino}")
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
    except OSError:
        return ""
    parts.sort()
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def owned(folder: Path, entry: Entry) -> bool:
    """Whether *folder* is still exactly what skillctl wrote (so replacing it loses nothing)."""
    if entry.mode == "link":
        return folder.is_symlink() and os.readlink(folder) == entry.source
    if folder.is_symlink() or not folder.is_dir():
        return False
    if entry.stamp and stamp(folder) == entry.stamp:
        return True
    try:
        current = skill_digest(folder)
    except InputError:
        return False
    return current in (entry.digest, entry.prior)
