"""The human gates and the security block: the lock writes that are not a verify or an audit.

``approve`` lifts a quarantine on the record (who, when, why, and the digest of exactly the
content that was reviewed), and is the one way besides ``skillctl.yaml`` to give a skill more
trust: a tier, or secrets with the network for its checks, for that digest only;
``quarantine`` records blocking scan findings. Both are library
functions so a Python user, the scheduler and the CLI change the lock the same way: under the
lock's file lock, atomically, and committing only ``skills.lock``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.lockmodel import Approval, LockEntry


@dataclass
class Approved:
    """What ``approve`` recorded."""

    name: str
    status: str
    approval: Approval
    entry: LockEntry
    commit: str | None
    was: str = "quarantined"


def approve(root: Path, name: str, reason: str, *, by: str | None = None, tier: str | None = None,
            allow_network_secrets: bool = False) -> Approved:
    """Lift *name*'s quarantine, or grant it *tier* / network with secrets, after human review.

    The approval is bound to the skill's current digest: the findings stay accepted, and the
    tier granted (``policy.effective_tier``), only for the files the reviewer read. The skill
    goes back to ``draft`` (never verified) or ``stale`` (verified before), so ``verify``
    re-checks it, at its new tier, before any agent loads it.
    """
    from skillctl.clock import utcnow
    from skillctl.gitops import commit_paths, git_identity
    from skillctl.lock import lock_path, lock_transaction, skill_digest

    reason = reason.strip()
    if not reason:
        raise InputError("--reason must say why the findings are acceptable", code="SC070")
    root = Path(root)
    who = by or git_identity(root)
    now = utcnow()
    with lock_transaction(root) as lock:
        entry = lock.skills.get(name)
        if entry is None:
            raise InputError(f"no skill named {name!r} in skills.lock", path=lock_path(root), code="SC071")
        if entry.status != "quarantined" and tier is None and not allow_network_secrets:
            raise InputError(f"{name} is {entry.status}, not quarantined; nothing to approve (--tier or "
                             "--allow-network-secrets grant more trust)", path=lock_path(root), code="SC072")
        digest = skill_digest(_folder(root, name, entry.path), root=root)
        status = "stale" if entry.verified_at else "draft"
        notes = [*entry.notes, f"approved findings: {', '.join(entry.findings)}"] if entry.findings else entry.notes
        approval = Approval(by=who, at=now, reason=reason, digest=digest, tier=tier,  # type: ignore[arg-type]
                            allow=["network+env"] if allow_network_secrets else [])
        new = entry.model_copy(update={
            "status": status, "since": now, "findings": [], "notes": notes,
            "reason": f"approved by {who}: {reason}", "approval": approval,
            "signed_by": None, "signature": None,  # a human gate, not a verify run: never signed
        })
        lock.skills[name] = new
    sha = commit_paths(root, [lock_path(root)], f"skillctl approve {name}: {reason}\n\nApproved-by: {who}")
    return Approved(name, status, approval, new, sha, was=entry.status)


def quarantine(root: Path, results: Iterable[Any], *, commit: bool = True) -> list[str]:
    """Move every skill with blocking findings to ``quarantined`` (scan results of ``scan_tree``).

    A skill a human approved with exactly this content, or a retired one, is left alone, and
    one already quarantined for the same findings is not rewritten. Returns the names moved.
    """
    from skillctl.clock import utcnow
    from skillctl.gitops import commit_paths
    from skillctl.lock import lock_path, lock_transaction, skill_digest
    from skillctl.policy import approval_covers
    from skillctl.repo import relpath
    from skillctl.transitions import after_block

    root = Path(root)
    changed: list[str] = []
    now = utcnow()
    with lock_transaction(root) as lock:
        for r in results:
            ids = sorted({f.rule_id for f in r.blocking})
            if not ids or r.error is not None:
                continue
            digest = skill_digest(r.folder, root=root)
            entry = lock.skills.get(r.name)
            if approval_covers(entry, digest) or (entry is not None and entry.status == "retired"):
                continue
            if entry is not None and entry.status == "quarantined" and sorted(entry.findings) == ids:
                continue
            lock.skills[r.name] = after_block(entry, digest=digest, version=None if entry is None else entry.version,
                                              path=relpath(r.folder, root), findings=ids, now=now)
            changed.append(r.name)
    if changed and commit:
        commit_paths(root, [lock_path(root)], "skillctl scan: quarantine " + ", ".join(changed))
    return changed


def _folder(root: Path, name: str, recorded: str | None) -> Path:
    """The folder of the skill the lock calls *name* (its recorded path first, then a search)."""
    if recorded and (root / recorded / "SKILL.md").is_file():
        return root / recorded
    from skillctl.parse import read_skill
    from skillctl.repo import discover_skills

    for folder in discover_skills(root):
        if folder.name == name:
            return folder
        try:
            if read_skill(folder, root=root).name == name:
                return folder
        except InputError:
            continue
    raise InputError(f"skill {name!r} is in the lock but its folder was not found", path=root, code="SC073")
