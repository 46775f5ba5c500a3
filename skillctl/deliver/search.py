"""``skillctl.search``: find skills by words, loadable ones only unless asked; hand one out to an agent.

One call refreshes the index (cheap when little changed; see ``skillctl.deliver.index``) and
queries it, so a caller never sees a verdict older than its own call. A missing or corrupt
``skills.lock`` raises LockError, as the loader does: nothing is offered as loadable.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from skillctl.clock import as_utc, utcnow
from skillctl.deliver.index import Hit, Index
from skillctl.errors import NotLoadableError, SkillctlError
from skillctl.repo import SKILL_FILE, relpath
from skillctl.safeio import walk


def search(repo: Path | str, query: str, limit: int = 10, *, include_all: bool = False,
           now: datetime | None = None) -> list[Hit]:
    """The best *limit* matches for *query* in the skills repo at *repo*, best first."""
    root = Path(repo).resolve()
    db = open_index_db(root)
    try:
        index = Index(root, db)
        index.refresh(now)
        return index.query(query, limit, include_all=include_all, now=now)
    finally:
        db.conn.close()


MAX_FILES = 1000


def open_index_db(root: Path) -> Any:
    """The repo's state database; if it cannot be opened (``.skillctl`` is a file, the repo is
    read-only), an in-memory one for this call: the index is derived, so a search still works."""
    from skillctl.state import migrate, open_state

    try:
        return open_state(root)
    except (OSError, sqlite3.Error):
        import sqlite_utils

        db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False))
        migrate(db)
        return db


@dataclass(frozen=True)
class SkillText:
    """A loadable skill as an agent reads it: SKILL.md and the names of the files beside it."""

    name: str
    description: str
    path: str
    skill_md: str
    files: list[str]

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "path": self.path,
                "skill_md": self.skill_md, "files": self.files}


def load_skill(repo: Path | str, name: str, *, now: datetime | None = None) -> SkillText:
    """SKILL.md of the skill *name* if the loader allows it now; NotLoadableError (with its reason) if not.

    The index (refreshed first) only says which folders carry the name; the verdict is the
    loader's on the lock as it is now (a refresh that missed a demotion must not hand out the
    entry it stored) with the folder digested afresh, and SKILL.md is read before and after
    that judgement, so the text handed out is the text that was verified.
    """
    from skillctl.loader import NOT_IN_LOCK, LoadContext, LoadedSkill, judge, match_lock
    from skillctl.lock import read_lock
    from skillctl.lockmodel import Lock

    root = Path(repo).resolve()
    now = as_utc(now) if now else utcnow()
    db = open_index_db(root)
    try:
        Index(root, db).refresh(now)
        rows = db.conn.execute("SELECT path FROM search_docs WHERE name = ? ORDER BY path", [name]).fetchall()
    finally:
        db.conn.close()
    lock = read_lock(root, missing_ok=False)
    if name not in lock.skills:
        raise NotLoadableError(f"skill {name!r} is not loadable: {NOT_IN_LOCK}" if rows
                               else f"no skill named {name!r} in this repository")
    # paired as the loader pairs it: by the entry's path, else among the folders carrying the name
    [(_, entry, folder)], _ = match_lock(root, Lock(skills={name: lock.skills[name]}),
                                         [root / path if path else root for (path,) in rows])
    before = _read_text(folder)
    # the repository's part of the contract (trust policy, look-alikes, signatures) is judged
    # afresh on every load: an agent is handed nothing a cached verdict vouched for alone
    context = LoadContext.for_repo(root, lock)
    verdict = judge(root, name, entry, folder, now, context=context)
    if not isinstance(verdict, LoadedSkill):
        raise NotLoadableError(f"skill {name!r} is not loadable: {verdict.reason}")
    text = _read_text(verdict.folder)
    if text is None or text != before:
        raise NotLoadableError(f"skill {name!r} is not loadable: SKILL.md changed while it was being loaded")
    return SkillText(name, verdict.description, relpath(verdict.folder, root), text, _files(verdict.folder))


def _read_text(folder: Path | None) -> str | None:
    from skillctl.parse import MAX_SKILL_BYTES, read_capped

    if folder is None:
        return None
    try:
        return read_capped(folder / SKILL_FILE, MAX_SKILL_BYTES).decode("utf-8", "replace")
    except (OSError, SkillctlError):
        return None


def _files(folder: Path) -> list[str]:
    """Relative paths of the skill's files (symlinks listed, never followed; ``.git`` skipped)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in walk(folder, strict=False):
        dirnames.sort()
        base = Path(dirpath)
        out.extend((base / f).relative_to(folder).as_posix() for f in sorted(filenames))
        if len(out) >= MAX_FILES:
            return out[:MAX_FILES]
    return out
