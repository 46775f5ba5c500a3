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

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from skillctl.clock import as_utc, format_ts, utcnow
from skillctl.errors import InputError
from skillctl.lock import read_lock, skill_digest
from skillctl.lockmodel import LockEntry
from skillctl.repo import discover_skills, relpath

if TYPE_CHECKING:
    from skillctl.policy import Policy

_SPEC_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


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
    from skillctl.config import load_config
    from skillctl.policy import Policy

    root = Path(repo).resolve()
    lock = read_lock(root, missing_ok=False)
    config = load_config(root)
    policy = Policy.from_config(config)
    signatures = None
    if config.require_signed:
        from skillctl.signing import SignatureChecker

        signatures = SignatureChecker.from_config(root, config)
    now = as_utc(now) if now else utcnow()
    report = LoadReport()
    on_disk = {relpath(folder, root): folder for folder in discover_skills(root)}
    by_name = {folder.name: rel for rel, folder in on_disk.items()}
    claimed: set[str] = set()
    impostors = lookalike_newcomers(lock.skills)
    for name in sorted(lock.skills):
        entry = lock.skills[name]
        folder = _folder_of(root, entry.path or by_name.get(name, name))
        if folder is not None:
            claimed.add(relpath(folder, root))
        if name in impostors:
            report.rejected.append(Rejection(name, entry.path, f"name looks like {impostors[name]!r} "
                                             "(look-alike characters, invisible characters or case): refused"))
            continue
        if signatures is not None and entry.status == "active":
            problem = signatures.problem(name, entry)
            if problem is not None:
                report.rejected.append(Rejection(name, entry.path, problem))
                continue
        verdict = _judge(root, name, entry, folder, now, policy)
        if isinstance(verdict, LoadedSkill):
            report.loaded.append(verdict)
        else:
            report.rejected.append(verdict)
    for rel, folder in on_disk.items():
        if rel not in claimed:
            report.rejected.append(Rejection(folder.name, rel, "not in skills.lock: never verified"))
    report.rejected.sort(key=lambda r: (r.name, r.path or ""))
    return report


def _folder_of(root: Path, rel: str) -> Path | None:
    """The skill's folder, only if it lies inside the repo (a lock could be tampered with)."""
    candidate = Path(rel)
    if candidate.is_absolute() or ".." in candidate.parts:
        return None
    resolved = (root / candidate).resolve()
    if resolved == root or root not in resolved.parents:
        return None
    return root / candidate


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
        original = next((m for m in sorted(members) if _SPEC_NAME.match(m)), None)
        for m in members:
            if m != original:
                out[m] = original or next(x for x in sorted(members) if x != m)
    return out


def _judge(root: Path, name: str, entry: LockEntry, folder: Path | None, now: datetime,
           policy: Policy | None = None) -> LoadedSkill | Rejection:
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
    from skillctl.parse import read_skill

    try:
        skill = read_skill(folder, root=root)
        digest = skill_digest(folder, root=root)
    except InputError as exc:
        return no(f"unreadable: {exc}")
    if digest != entry.digest:
        return no("content changed since verification (digest mismatch): re-run skillctl verify")
    if skill.name != name:
        return no(f"SKILL.md names {skill.name!r}, the lock entry is {name!r}")
    if policy is not None and entry.tier is not None:
        from skillctl.policy import effective_tier, rank

        now_tier = effective_tier(policy, skill, rel=relpath(folder, root), entry=entry, digest=digest)
        if rank(now_tier.tier) < rank(entry.tier):
            return no(f"verified as a {entry.tier} skill, but the repository now grants {now_tier.tier} "
                      f"({now_tier.why}): re-run skillctl verify")
    version = skill.lifecycle.version if skill.lifecycle else entry.version
    return LoadedSkill(name=name, description=skill.description, location=skill.skill_md.resolve(),
                       folder=folder.resolve(), version=version, expires_at=as_utc(entry.expires_at),
                       digest=digest)
