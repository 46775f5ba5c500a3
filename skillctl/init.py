"""Create a new skills repository."""

from __future__ import annotations

from pathlib import Path

from skillctl.config import CONFIG_NAME
from skillctl.errors import InputError
from skillctl.lock import atomic_write, dump_lock, lock_path
from skillctl.lockmodel import Lock

CONFIG_TEMPLATE = """\
# skillctl.yaml: defaults for every skill in this repo (a skill's metadata.skillctl wins).
# Each commented block below is a working example: uncomment it (remove one "# ") to use it.

# How long a passing verification stays trusted when a skill sets no ttl (m, h, d or w).
ttl: 30d
# Default per-check timeout in seconds (a check's {timeout=N} wins).
timeout: 60
# Re-runs of a failing check within one verify run before it counts as a failure.
retries: 1
# Refuse to run checks when the bubblewrap sandbox is unavailable (no rlimit fallback).
require_sandbox: false

# Registry base URLs (mirrors, private registries). SKILLCTL_REGISTRY_<NAME> env vars win.
# registries:
#   pypi: https://pypi.org
#   npm: https://registry.npmjs.org

# Extra scan rule packs (folders of YAML files), relative to this file.
# rules:
#   - security/rules

# Trust tiers are granted here, never by a skill (its own metadata.skillctl.trust can only
# lower its tier). First matching path glob wins; skills no rule names are community.
# trust:
#   - {path: "skills/core/*", tier: builtin}
#   - {path: "skills/team/*", tier: team}

# Signed verdicts: the loader refuses lock entries not signed by a key in allowed_signers
# (verify --apply --sign-key KEY signs them; off by default).
# require_signed: true
# allowed_signers: allowed_signers

# Trust and rot policy: the tier of skills no trust rule names, the lowest scan severity that
# blocks each tier (or never), which rot findings make a skill stale, and when a package
# counts as abandoned or a release as too fresh to trust.
# policy:
#   default_trust: community
#   block_at:
#     team: medium
#   stale_on: [yanked, deprecated, missing, major]
#   abandoned_after: 540d
#   min_release_age: 3d

# Registry client settings for audit and schedule.
# audit:
#   timeout: 10
#   retries: 2
#   concurrency: 16
#   cache_ttl: 6h

# Findings a human reviewed and accepted for the whole repo (a reason is required).
# suppress:
#   - rule: RCE-001
#     path: "skills/uv-setup/*"
#     reason: the official uv installer, pinned in CI
"""


def init_repo(path: Path) -> list[str]:
    """Create lock, config, .gitignore (and git) at *path*; never overwrite. Returns what was made."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError("exists and is not a directory", path=path, code="SK007")
    path.mkdir(parents=True, exist_ok=True)
    made: list[str] = []
    from skillctl.gitops import open_repo

    if open_repo(path) is None:
        import git

        git.Repo.init(path)
        made.append("git repository")
    if not lock_path(path).exists():
        atomic_write(lock_path(path), dump_lock(Lock()))
        made.append("skills.lock")
    if not (path / CONFIG_NAME).exists():
        atomic_write(path / CONFIG_NAME, CONFIG_TEMPLATE)
        made.append(CONFIG_NAME)
    gitignore = path / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8", errors="replace") if gitignore.exists() else ""
    if ".skillctl/" not in existing.split():
        atomic_write(gitignore, existing + ("" if not existing or existing.endswith("\n") else "\n")
                     + ".skillctl/\n")
        made.append(".gitignore")
    (path / "skills").mkdir(exist_ok=True)
    return made
