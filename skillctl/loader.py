"""The fail-closed loader: which skills an agent may load right now (docs/DESIGN.md, "The loader contract").

A skill is loadable only if its lock entry is ``active``, the digest of the files on disk now
equals the verified digest, ``now < expires_at``, and it carries no blocking findings.
Everything else is rejected with a reason. A missing, corrupt or unreadable lock raises
LockError: the caller loads nothing, and the user is told why — never the other way round.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from skillctl.clock import as_utc, format_ts, utcnow
from skillctl.errors import InputError
from skillctl.lock import read_lock, skill_digest
from skillctl.lockmodel import LockEntry
from skillctl.repo import discover_skills

if TYPE_CHECKING:
    from skillctl.lockmodel import Lock
    from skillctl.model import Skill

NOT_IN_LOCK = "not in skills.lock: never verified"


@dataclass(frozen=True)
class LoadedSkill:
    """A skill the agent may use: what it needs to list it and where to read it."""

    name: str
    description: str
    location: Path
    folder: Path
    version: str | None
    expires_at: datetime
    digest: str


@dataclass(frozen=True)
class Rejection:
    name: str
    path: str | None
    reason: str


@dataclass
class LoadReport:
    loaded: list[LoadedSkill] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def load_skills(repo: Path, now: datetime | None = None) -> list[LoadedSkill]:
    """The loadable skills, sorted by name. Raises LockError when the lock is missing or corrupt."""
    return explain_load(repo, now).loaded


def explain_load(repo: Path, now: datetime | None = None) -> LoadReport:
    """Every skill known on disk or in the lock, either loaded or rejected with a reason."""
    root = Path(repo).resolve()
    lock = read_lock(root, missing_ok=False)
    now = as_utc(now) if now else utcnow()
    report = LoadReport()
    pairs, unclaimed = match_lock(root, lock, discover_skills(root))
    for name, entry, folder in pairs:
        verdict = judge(root, name, entry, folder, now)
        if isinstance(verdict, LoadedSkill):
            report.loaded.append(verdict)
        else:
            report.rejected.append(verdict)
    for rel, folder in unclaimed.items():
        report.rejected.append(Rejection(folder.name, rel, NOT_IN_LOCK))
    report.rejected.sort(key=lambda r: (r.name, r.path or ""))
    return report


def match_lock(root: Path, lock: Lock, folders: list[Path]) -> tuple[list[tuple[str, LockEntry, Path | None]],
                                                                      dict[str, Path]]:
    """Pair each lock entry (sorted by name) with its folder, and return the folders no entry claims.

    An entry names its folder by ``path``, else by the folder's name; a folder that would lie
    outside the repository is None (the entry is then rejected, never read).
    """
    # relpath() for every folder, with the repo root resolved once: this runs over every skill
    real_root = os.path.realpath(root)
    on_disk = {_real_rel(folder, real_root): folder for folder in folders}
    by_name = {folder.name: rel for rel, folder in on_disk.items()}
    claimed: set[str] = set()
    pairs: list[tuple[str, LockEntry, Path | None]] = []
    for name in sorted(lock.skills):
        entry = lock.skills[name]
        located = _locate(root, entry.path or by_name.get(name, name))
        folder = None
        if located is not None:
            folder, rel = located
            claimed.add(rel)
        pairs.append((name, entry, folder))
    return pairs, {rel: folder for rel, folder in on_disk.items() if rel not in claimed}


def _real_rel(path: Path, real_root: str) -> str:
    """``repo.relpath(path, root)`` given the resolved root."""
    real = os.path.realpath(path)
    if real.startswith(real_root + os.sep):
        return Path(real[len(real_root) + 1:]).as_posix()
    return "." if real == real_root else Path(path).as_posix()


@dataclass(frozen=True)
class Observed:
    """What the loader needs from the files on disk: read once, or supplied by a cache (the index)."""

    name: str
    description: str
    skill_md: Path
    has_lifecycle: bool
    version: str | None
    digest: str

    @classmethod
    def from_skill(cls, skill: Skill, digest: str) -> Observed:
        life = skill.lifecycle
        return cls(skill.name, skill.description, skill.skill_md, life is not None, life.version if life else None,
                   digest)


def observe(root: Path, folder: Path) -> Observed:
    """Parse SKILL.md and digest the folder (InputError when unreadable)."""
    from skillctl.parse import read_skill

    skill = read_skill(folder, root=root)
    return Observed.from_skill(skill, skill_digest(folder))


def _locate(root: Path, rel: str) -> tuple[Path, str] | None:
    """The skill's folder and its resolved path relative to the repo, only if it lies inside the
    repo (a lock could be tampered with)."""
    candidate = Path(rel)
    if candidate.is_absolute() or ".." in candidate.parts:
        return None
    base = str(root)
    resolved = os.path.realpath(root / candidate)
    if not resolved.startswith(base + os.sep):
        return None
    return root / candidate, Path(resolved[len(base) + 1:]).as_posix()


def judge(root: Path, name: str, entry: LockEntry, folder: Path | None, now: datetime,
          observed: Callable[[Path, Path], Observed] = observe) -> LoadedSkill | Rejection:
    """The loader contract for one lock entry; *observed* reads the folder only once the lock allows it."""

    def no(reason: str) -> Rejection:
        return Rejection(name, entry.path, reason)

    if entry.status != "active":
        return no(f"status is {entry.status}" + (f": {entry.reason}" if entry.reason else ""))
    if entry.findings:
        return no(f"blocking findings: {', '.join(entry.findings)}")
    if entry.expires_at is None:
        return no("no expiry recorded: never verified")
    if as_utc(entry.expires_at) <= now:
        return no(f"verification expired at {format_ts(entry.expires_at)}")
    if not entry.digest:
        return no("no digest recorded")
    if folder is None:
        return no(f"lock path {entry.path!r} points outside the repository")
    if not (folder / "SKILL.md").is_file():
        return no("skill folder or SKILL.md is missing")
    try:
        seen = observed(root, folder)
    except InputError as exc:
        return no(f"unreadable: {exc}")
    if seen.digest != entry.digest:
        return no("content changed since verification (digest mismatch): re-run skillctl verify")
    if seen.name != name:
        return no(f"SKILL.md names {seen.name!r}, the lock entry is {name!r}")
    version = seen.version if seen.has_lifecycle else entry.version
    return LoadedSkill(name=name, description=seen.description, location=seen.skill_md.resolve(),
                       folder=folder.resolve(), version=version, expires_at=as_utc(entry.expires_at),
                       digest=seen.digest)
