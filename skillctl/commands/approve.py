"""``skillctl approve NAME --reason ...``: a human vouches for one skill's content, on the record.

Approval is bound to the skill's content digest: the findings a reviewer accepted stay
accepted only for exactly the files they read. It lifts a quarantine, and can grant a trust
tier (``--tier``) or let this content's checks hold secrets with the network
(``--allow-network-secrets``) — the only ways besides skillctl.yaml that a skill gets more trust.
The skill goes back to ``draft`` (never verified) or ``stale`` (verified before), so ``verify``
re-checks it, at its new tier, before any agent loads it.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json
from skillctl.errors import InputError


@click.command("approve")
@click.argument("name")
@click.option("--reason", required=True, help="Why the findings are acceptable (recorded in the lock).")
@click.option("--by", "by", default=None, help="Who approves (default: git user.name <user.email>, else $USER).")
@click.option("--tier", type=click.Choice(["builtin", "team", "community", "synthesized"]), default=None,
              help="Grant this trust tier to exactly this content (digest).")
@click.option("--allow-network-secrets", "allow_secrets", is_flag=True,
              help="Let this content's checks have env= secrets and network=true together.")
@common_options
def cmd(name: str, reason: str, by: str | None, tier: str | None, allow_secrets: bool, root: Path,
        as_json: bool) -> None:
    """Lift NAME's quarantine, or grant it a tier, after human review (who, when, why, digest)."""
    from skillctl.clock import format_ts, utcnow
    from skillctl.gitops import commit_paths
    from skillctl.lock import lock_path, lock_transaction, skill_digest
    from skillctl.model import Approval

    if not reason.strip():
        raise InputError("--reason must say why the findings are acceptable", code="SC070")
    who = by or _who(root)
    now = utcnow()
    with lock_transaction(root) as lock:
        entry = lock.skills.get(name)
        if entry is None:
            raise InputError(f"no skill named {name!r} in skills.lock", path=lock_path(root), code="SC071")
        if entry.status != "quarantined" and tier is None and not allow_secrets:
            raise InputError(f"{name} is {entry.status}, not quarantined; nothing to approve "
                             "(--tier or --allow-network-secrets grant more trust)", path=lock_path(root), code="SC072")
        folder = _folder(root, name, entry.path)
        digest = skill_digest(folder, root=root)
        status = "stale" if entry.verified_at else "draft"
        allow = ["network+env"] if allow_secrets else []
        notes = [*entry.notes, f"approved findings: {', '.join(entry.findings)}"] if entry.findings else entry.notes
        new = entry.model_copy(update={
            "status": status, "since": now, "findings": [], "notes": notes,
            "reason": f"approved by {who}: {reason.strip()}",
            "approval": Approval(by=who, at=now, reason=reason.strip(), digest=digest, tier=tier, allow=allow),
            "signed_by": None, "signature": None,
        })
        lock.skills[name] = new
    sha = commit_paths(root, [lock_path(root)], f"skillctl approve {name}: {reason.strip()}\n\nApproved-by: {who}")
    if as_json:
        echo_json({"name": name, "status": status, "approval": new.approval, "commit": sha})
    else:
        granted = "".join([f"; tier {tier}" if tier else "", "; network+env allowed" if allow_secrets else ""])
        click.echo(f"{name}: {entry.status} -> {status} (approved by {who} at {format_ts(now)}; digest "
                   f"{digest[:19]}…{granted})")
        click.echo("run `skillctl verify` before agents can load it again")


def _folder(root: Path, name: str, recorded: str | None) -> Path:
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


def _who(root: Path) -> str:
    """The approver as git knows them; a human gate should name a human."""
    def git(key: str) -> str:
        try:
            out = subprocess.run(["git", "config", key], cwd=root, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip()

    name, email = git("user.name"), git("user.email")
    if name and email:
        return f"{name} <{email}>"
    return name or email or os.environ.get("USER") or getpass.getuser()
