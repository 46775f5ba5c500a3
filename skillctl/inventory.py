"""Join what is on disk (skill folders) with what the lock says, for list/show/load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from skillctl.errors import InputError
from skillctl.lock import read_lock
from skillctl.model import LockEntry, Skill
from skillctl.parse import read_skill
from skillctl.repo import discover_skills, relpath


@dataclass
class Row:
    name: str
    folder: Path | None
    entry: LockEntry | None
    skill: Skill | None
    error: InputError | None = None

    @property
    def status(self) -> str:
        if self.entry is None:
            return "untracked"
        if self.folder is None:
            return "missing"
        return self.entry.status

    @property
    def version(self) -> str:
        if self.skill and self.skill.lifecycle and self.skill.lifecycle.version:
            return self.skill.lifecycle.version
        return (self.entry.version if self.entry else None) or "-"

    @property
    def expires_at(self) -> datetime | None:
        return self.entry.expires_at if self.entry else None


def inventory(root: Path) -> list[Row]:
    """Every skill on disk or in the lock, sorted by name. A corrupt lock raises LockError."""
    lock = read_lock(root)
    rows: dict[str, Row] = {}
    for folder in discover_skills(root):
        try:
            skill = read_skill(folder, root=root)
            name, error = skill.name, None
        except InputError as exc:
            skill, name, error = None, folder.name, exc
        rows[name] = Row(name=name, folder=folder, entry=lock.skills.get(name), skill=skill, error=error)
    for name, entry in lock.skills.items():
        if name not in rows:
            recorded = Path(root) / entry.path if entry.path else None
            rows[name] = Row(name=name, folder=recorded if recorded and recorded.is_dir() else None,
                             entry=entry, skill=None)
    return [rows[n] for n in sorted(rows)]


def row_json(row: Row, root: Path) -> dict:
    return {
        "name": row.name,
        "version": row.version,
        "status": row.status,
        "path": relpath(row.folder, root) if row.folder else None,
        "expires_at": row.expires_at,
        "reason": row.entry.reason if row.entry else None,
        "error": str(row.error) if row.error else None,
    }
