"""Build skills repos whose lock says some skills are loadable (for sync, agents, e2e tests)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from skillctl.lock import read_lock, skill_digest, write_lock
from skillctl.lockmodel import Lock, LockEntry


def write_skill(folder: Path, name: str, description: str | None = None, body: str = "Do the thing.\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    desc = description or f"Use when a task needs the {name} test skill."
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {desc}\n---\n# {name}\n\n{body}",
                                     encoding="utf-8")
    return folder


def verified_repo(root: Path, names: list[str], *, status: dict[str, str] | None = None,
                  now: datetime | None = None, files: int = 0) -> Path:
    """A repo with one skill per name under skills/, each locked active (or *status*) for 30 days."""
    now = now or datetime.now(timezone.utc)
    lock = Lock()
    for name in names:
        folder = write_skill(root / "skills" / name, name)
        for i in range(files):
            (folder / "references").mkdir(exist_ok=True)
            (folder / "references" / f"note{i}.md").write_text(f"note {i} of {name}\n")
        lock.skills[name] = LockEntry(status=(status or {}).get(name, "active"), digest=skill_digest(folder),
                                      path=f"skills/{name}", verified_at=now, expires_at=now + timedelta(days=30),
                                      reason="checks passed")
    write_lock(root, lock)
    return root


def set_status(root: Path, name: str, status: str, reason: str = "demoted by test") -> None:
    lock = read_lock(root)
    lock.skills[name].status = status  # type: ignore[assignment]
    lock.skills[name].reason = reason
    write_lock(root, lock)
