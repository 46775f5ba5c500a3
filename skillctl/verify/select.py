"""Which skills a ``verify`` run covers: named ones, those changed since a git ref, one shard.

Selection happens before any SKILL.md is parsed, from folder names and the lock's recorded
paths, so a cached re-verify of a large repo does not pay for parsing what it will skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from skillctl.errors import GitError, InputError
from skillctl.lockmodel import Lock
from skillctl.repo import discover_skills, relpath


@dataclass(frozen=True)
class Candidate:
    """A skill folder to verify and the lock name it is (provisionally) known by."""

    name: str
    folder: Path
    rel: str
    root: Path


def parse_shard(shard: str | tuple[int, int]) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4): 1-based, as CI matrices count."""
    if isinstance(shard, tuple):
        index, total = shard
    else:
        try:
            left, right = str(shard).split("/")
            index, total = int(left), int(right)
        except ValueError:
            raise InputError(f"--shard {shard!r}: expected I/N, e.g. 1/4", code="SC003") from None
    if not 1 <= index <= total:
        raise InputError(f"--shard {index}/{total}: I must be between 1 and N", code="SC003")
    return index, total


def select(
    root: Path,
    lock: Lock,
    names: Sequence[str] | None,
    *,
    changed_base: str | None = None,
    shard: str | tuple[int, int] | None = None,
) -> list[Candidate]:
    """Candidates sorted by name. Unknown names are an InputError, not an empty success."""
    by_path = {entry.path: name for name, entry in lock.skills.items() if entry.path}
    cands = []
    for folder in discover_skills(root):
        rel = relpath(folder, root)
        cands.append(Candidate(name=by_path.get(rel, folder.name), folder=folder, rel=rel, root=root))
    cands.sort(key=lambda c: (c.name, c.rel))
    if names:
        cands = _named(cands, names, root)
    if changed_base is not None:
        changed = changed_paths(root, changed_base)
        cands = [c for c in cands if any(p == c.folder or c.folder in p.parents for p in changed)]
    if shard is not None:
        index, total = parse_shard(shard)
        cands = cands[index - 1 :: total]
    return cands


def _named(cands: list[Candidate], names: Sequence[str], root: Path) -> list[Candidate]:
    wanted: dict[str, Candidate] = {}
    for name in names:
        path = Path(name)
        resolved = (path if path.is_absolute() else Path.cwd() / path).resolve()
        match = [c for c in cands if name in (c.name, c.rel, c.folder.name) or c.folder.resolve() == resolved]
        if not match:
            raise InputError(f"no skill named {name!r} in {root}", code="SC002")
        for c in match:
            wanted[c.rel] = c
    return sorted(wanted.values(), key=lambda c: (c.name, c.rel))


def changed_paths(root: Path, base: str) -> set[Path]:
    """Files that differ between *base* and the working tree, untracked ones included."""
    from skillctl.gitops import open_repo, resolve_ref

    commit = resolve_ref(root, base)
    repo = open_repo(root)
    if repo is None:  # resolve_ref found a commit, so this cannot happen; say so if it does
        raise GitError("not a git repository", path=root, code="SC031")
    top = Path(repo.working_tree_dir or repo.git_dir).resolve()
    paths: set[Path] = set()
    for diff in commit.diff(None):
        for rel in (diff.a_path, diff.b_path):
            if rel:
                paths.add(top / rel)
    paths.update(top / rel for rel in repo.untracked_files)
    return paths
