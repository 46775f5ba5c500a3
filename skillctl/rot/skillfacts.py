"""What audit and schedule need from each SKILL.md (name, ttl, pins), cached by file identity.

Parsing 300 SKILL.md files costs more than answering 1,000 pins from the registry cache, and
an audit every hour re-reads files that almost never change. Like git's index, a file whose
``lstat`` (inode, size, mtime in ns) is unchanged is not parsed again: its facts come from
``.skillctl/state.db``. A symlinked SKILL.md or folder always goes through ``read_skill`` and
its containment check, and anything unreadable is never cached, so errors stay loud.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.model import Pin, parse_ttl
from skillctl.parse import read_skill
from skillctl.repo import SKILL_FILE, stat_identity


@dataclass
class SkillFacts:
    name: str
    skill_md: str
    ttl: str | None = None
    ttl_line: int | None = None
    pins: list[Pin] = field(default_factory=list)

    def ttl_delta(self) -> timedelta | None:
        return parse_ttl(self.ttl)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "ttl": self.ttl, "ttl_line": self.ttl_line,
                           "pins": [[p.datasource, p.package, p.version, p.line] for p in self.pins]})

    @classmethod
    def from_json(cls, text: str, skill_md: str) -> SkillFacts:
        data = json.loads(text)
        pins = [Pin(datasource=d, package=p, version=v, line=n) for d, p, v, n in data["pins"]]
        return cls(data["name"], skill_md, data["ttl"], data["ttl_line"], pins)


def _identity(folder: Path) -> str | None:
    """``repo.stat_identity`` of SKILL.md, or None when it (or its folder) is a symlink."""
    try:
        if folder.is_symlink():
            return None
        st = os.lstat(folder / SKILL_FILE)
    except OSError:
        return None
    return stat_identity(st)


def skill_facts(root: Path, folders: list[Path], db: Any = None) -> dict[Path, SkillFacts | InputError]:
    """Facts for each folder (InputError for unreadable skills); *db* is an open state db or None."""
    root = Path(root)
    keys = {folder: folder.relative_to(root).as_posix() if folder.is_relative_to(root) else str(folder)
            for folder in folders}
    cached: dict[str, tuple[str, str]] = {}
    if db is not None:
        try:
            cached = {row[0]: (row[1], row[2]) for row in db.execute("SELECT path, identity, facts FROM skill_facts")}
        except sqlite3.Error:
            db = None
    out: dict[Path, SkillFacts | InputError] = {}
    fresh: list[dict[str, str]] = []
    for folder in folders:
        ident, skill_md = _identity(folder), str(folder / SKILL_FILE)
        hit = cached.get(keys[folder])
        if ident is not None and hit is not None and hit[0] == ident:
            try:
                out[folder] = SkillFacts.from_json(hit[1], skill_md)
                continue
            except (ValueError, TypeError, KeyError):
                pass
        try:
            skill = read_skill(folder, root=root)
        except InputError as exc:
            out[folder] = exc
            continue
        life = skill.lifecycle
        facts = SkillFacts(skill.name, skill_md, life.ttl if life else None,
                           skill.key_lines.get("metadata.skillctl.ttl"), list(life.pins) if life else [])
        out[folder] = facts
        if ident is not None:
            fresh.append({"path": keys[folder], "identity": ident, "facts": facts.to_json()})
    if db is not None and fresh:
        try:
            with db.atomic():
                db["skill_facts"].upsert_all(fresh, pk="path")
        except sqlite3.Error:
            pass  # a cache that cannot be written is only a slower next run
    return out
