"""``skillctl approve NAME --reason ...``: a human lifts a quarantine, on the record.

Approval is bound to the skill's content digest: the findings a reviewer accepted stay
accepted only for exactly the files they read. The skill goes back to ``draft`` (never
verified) or ``stale`` (verified before), so ``verify`` re-checks it before any agent loads it.
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
@common_options
def cmd(name: str, reason: str, by: str | None, root: Path, as_json: bool) -> None:
    """Lift NAME's quarantine after human review, recording who, when, why and the digest."""
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
        if entry.status != "quarantined":
            raise InputError(f"{name} is {entry.status}, not quarantined; nothing to approve",
                             path=lock_path(root), code="SC072")
        folder = _folder(root, name, entry.path)
        digest = skill_digest(folder, root=root)
        status = "stale" if entry.verified_at else "draft"
        notes = [*entry.notes, f"approved findings: {', '.join(entry.findings)}"] if entry.findings else entry.notes
        new = entry.model_copy(update={
            "status": status, "since": now, "findings": [], "notes": notes,
            "reason": f"approved by {who}: {reason.strip()}",
            "approval": Approval(by=who, at=now, reason=reason.strip(), digest=digest),
        })
        lock.skills[name] = new
    sha = commit_paths(root, [lock_path(root)], f"skillctl approve {name}: {reason.strip()}\n\nApproved-by: {who}")
    if as_json:
        echo_json({"name": name, "status": status, "approval": new.approval, "commit": sha})
    else:
        click.echo(f"{name}: quarantined -> {status} (approved by {who} at {format_ts(now)}; digest {digest[:19]}…)")
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
