"""The git operations skillctl performs itself (gitpython, imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from skillctl.errors import GitError

if TYPE_CHECKING:  # gitpython is imported where it is used: start-up stays cheap
    import git


def open_repo(root: Path) -> git.Repo | None:
    """The git repository containing *root*, or None when *root* is not in one."""
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def head_commit(root: Path) -> str | None:
    """Short sha of HEAD, or None outside git / before the first commit."""
    repo = open_repo(root)
    if repo is None:
        return None
    try:
        return repo.head.commit.hexsha[:7]
    except ValueError:
        return None


def commit_paths(root: Path, paths: list[Path], message: str) -> str | None:
    """Commit exactly *paths* (nothing else the user has staged) and return the new sha.

    Returns None outside a git repo or when the paths have no changes. Other staged changes
    stay staged: skillctl only ever records its own verdicts.
    """
    import git

    repo = open_repo(root)
    if repo is None:
        return None
    top = Path(repo.working_tree_dir or repo.git_dir).resolve()
    rels = [Path(p).resolve().relative_to(top).as_posix() for p in paths]
    try:
        repo.git.add("--", *rels)
        if not repo.git.diff("--cached", "--name-only", "--", *rels).strip():
            return None
        repo.git.commit("-m", message, "--only", "--no-verify", "--", *rels)
        return repo.head.commit.hexsha[:7]
    except git.GitCommandError as exc:
        raise GitError(f"git commit failed: {exc.stderr.strip() or exc}", path=root) from None


def resolve_ref(root: Path, ref: str) -> git.Commit:
    """A commit object for *ref*, or a clear GitError naming the ref."""
    import git

    repo = open_repo(root)
    if repo is None:
        raise GitError("not a git repository", path=root, code="SC031")
    try:
        return repo.commit(ref)
    except (git.BadName, ValueError, git.GitCommandError):
        raise GitError(f"unknown git ref {ref!r}", path=root, code="SC032") from None


def git_identity(root: Path) -> str:
    """Who is acting, as git knows them (``name <email>``), else the login name.

    A human gate (an approval) should name a human, so this asks git's own configuration
    chain (repo, global, system) rather than the process environment first.
    """
    import getpass
    import os
    import subprocess

    def config(key: str) -> str:
        try:
            out = subprocess.run(["git", "config", key], cwd=root, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip()

    name, email = config("user.name"), config("user.email")
    if name and email:
        return f"{name} <{email}>"
    return name or email or os.environ.get("USER") or getpass.getuser()
