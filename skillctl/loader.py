"""The fail-closed loader: which skills an agent may load right now (docs/DESIGN.md, "The loader contract").

A skill is loadable only if its lock entry is ``active``, the digest of the files on disk now
equals the verified digest, ``now < expires_at``, and it carries no blocking findings; the
verdict was reached at a trust tier the repository still grants (``policy.effective_tier``);
its name is not a look-alike of another skill's (Cyrillic ``с``, a zero-width space, a case
variant: only the name spelled as the spec requires may load); and, with ``require_signed``,
its entry carries a valid signature from ``allowed_signers`` (``signing.py``).
Everything else is rejected with a reason. A missing, corrupt or unreadable lock raises
LockError: the caller loads nothing, and the user is told why — never the other way round.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from skillctl.clock import as_utc, format_ts, utcnow
from skillctl.errors import InputError
from skillctl.lock import read_lock, skill_digest
from skillctl.lockmodel import LockEntry
from skillctl.repo import discover_skills
from skillctl.vocab import is_skill_name

if TYPE_CHECKING:
    from skillctl.lockmodel import Lock
    from skillctl.model import Skill
    from skillctl.policy import Policy
    from skillctl.signing import SignatureChecker

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
    context = LoadContext.for_repo(root, lock)
    pairs, unclaimed = match_lock(root, lock, discover_skills(root))
    for name, entry, folder in pairs:
        verdict = judge(root, name, entry, folder, now, context=context)
        if isinstance(verdict, LoadedSkill):
            report.loaded.append(verdict)
        else:
            report.rejected.append(verdict)
    for rel, folder in unclaimed.items():
        report.rejected.append(Rejection(folder.name, rel, NOT_IN_LOCK))
    report.rejected.sort(key=lambda r: (r.name, r.path or ""))
    return report


def match_lock(root: Path, lock: Lock, folders: list[Path], *,
               walked: bool = False) -> tuple[list[tuple[str, LockEntry, Path | None]], dict[str, Path]]:
    """Pair each lock entry (sorted by name) with its folder, and return the folders no entry claims.

    An entry names its folder by ``path``, else by the folder's name; a folder that would lie
    outside the repository is None (the entry is then rejected, never read). *walked*: the
    folders lie under the resolved *root* and were found by a walk that follows no symlink,
    so each already is its real path (the search index passes 100,000 of them).
    """
    # relpath() for every folder, with the repo root resolved once: this runs over every skill
    real_root = os.path.realpath(root)
    if walked and str(root) == real_root:
        cut = len(real_root) + 1
        on_disk = {(str(folder)[cut:] if folder != root else "."): folder for folder in folders}
    else:
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
class LoadContext:
    """What the repository adds to each entry's own verdict: its trust policy, the look-alike
    names among its entries, and (with ``require_signed``) the signature checker."""

    policy: Policy | None = None
    impostors: dict[str, str] = field(default_factory=dict)
    signatures: SignatureChecker | None = None

    @classmethod
    def for_repo(cls, root: Path, lock: Lock) -> LoadContext:
        from skillctl.config import load_config
        from skillctl.policy import Policy

        config = load_config(root)
        signatures = None
        if config.require_signed:
            from skillctl.signing import SignatureChecker

            signatures = SignatureChecker.from_config(root, config)
        return cls(Policy.from_config(config), lookalike_newcomers(lock.skills), signatures)


def skeleton(name: str) -> str:
    """*name* as it looks on screen: case folded, invisible characters dropped, homoglyphs mapped."""
    from skillctl.scan.names import _CONFUSABLE

    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c) and unicodedata.category(c)[0] not in "CZ")
    return "".join(_CONFUSABLE.get(c, c) for c in text.casefold())


def lookalike_newcomers(names: Iterable[str]) -> dict[str, str]:
    """Names that render like another name in the same lock -> the name they imitate.

    Of a group that looks alike, only a name spelled as the spec requires (``a-z0-9`` and
    hyphens) is the original; every other member is refused, and when no member is spelled
    that way, all are: an agent (or a user picking from a list) cannot tell them apart.
    """
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(skeleton(name), []).append(name)
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        original = next((m for m in sorted(members) if is_skill_name(m)), None)
        for m in members:
            if m != original:
                out[m] = original or next(x for x in sorted(members) if x != m)
    return out


@dataclass(frozen=True)
class Observed:
    """What the loader needs from the files on disk: read once, or supplied by a cache (the index)."""

    name: str
    description: str
    skill_md: Path
    has_lifecycle: bool
    version: str | None
    digest: str
    skill: Skill | None = None
    """The parsed skill when it was read now (a cached observation has none)."""

    @classmethod
    def from_skill(cls, skill: Skill, digest: str) -> Observed:
        life = skill.lifecycle
        return cls(skill.name, skill.description, skill.skill_md, life is not None, life.version if life else None,
                   digest, skill)


def observe(root: Path, folder: Path) -> Observed:
    """Parse SKILL.md and digest the folder (InputError when unreadable)."""
    from skillctl.parse import read_skill

    skill = read_skill(folder, root=root)
    return Observed.from_skill(skill, skill_digest(folder, root=root))


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
          observed: Callable[[Path, Path], Observed] = observe, *,
          context: LoadContext | None = None) -> LoadedSkill | Rejection:
    """The loader contract for one lock entry; *observed* reads the folder only once the lock allows it.

    Every caller that decides loadability (the loader, the index, the MCP server) passes the
    repository's ``LoadContext``; without one only the entry's own evidence is judged.
    """

    def no(reason: str) -> Rejection:
        return Rejection(name, entry.path, reason)

    context = context or LoadContext()
    if name in context.impostors:
        return no(f"name looks like {context.impostors[name]!r} (look-alike characters, invisible characters "
                  "or case): refused")
    if context.signatures is not None and entry.status == "active":
        problem = context.signatures.problem(name, entry)
        if problem is not None:
            return no(problem)
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
    if context.policy is not None and entry.tier is not None:
        from skillctl.policy import effective_tier, rank
        from skillctl.repo import relpath

        now_tier = effective_tier(context.policy, seen.skill, rel=relpath(folder, root), entry=entry,
                                  digest=seen.digest)
        if rank(now_tier.tier) < rank(entry.tier):
            return no(f"verified as a {entry.tier} skill, but the repository now grants {now_tier.tier} "
                      f"({now_tier.why}): re-run skillctl verify")
    version = seen.version if seen.has_lifecycle else entry.version
    return LoadedSkill(name=name, description=seen.description, location=seen.skill_md.resolve(),
                       folder=folder.resolve(), version=version, expires_at=as_utc(entry.expires_at),
                       digest=seen.digest)
