"""Finding the skills repo and the skill folders inside it."""

from __future__ import annotations

import os
from pathlib import Path

from skillctl.errors import InputError
from skillctl.safeio import walk

LOCK_NAME = "skills.lock"
SKILL_FILE = "SKILL.md"
# Directories that never hold skills a repo manages. Dot-directories in general are *not*
# skipped: real collections keep skills under `.curated/` and `.system/`.
SKIP_DIRS = frozenset({".git", ".skillctl", "node_modules", "__pycache__", ".venv", ".hg", ".svn"})
# A folder ``sync`` manages (an agent folder inside the repo, e.g. ``.claude/skills``) holds
# copies of the repo's skills, not skills of its own: discovering them would count each twice.
SYNC_MANIFEST = ".skillctl-manifest.json"
#: How deep below the repo root a skill is looked for; deeper folders are passed over, never
#: a crash (a hostile tree thousands deep would exhaust a recursive walk).
MAX_DISCOVERY_DEPTH = 64


def find_repo_root(start: Path | None = None) -> Path:
    """Walk up from *start* to the directory holding ``skills.lock``; else *start* itself."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / LOCK_NAME).is_file():
            return candidate
    return here


def discover_skills(root: Path) -> list[Path]:
    """Every folder under *root* that holds a SKILL.md, sorted, without following symlinks.

    A folder that is itself a skill is not searched further: nested SKILL.md files inside a
    skill's references are part of that skill, not skills of their own. A file path stands
    for the nearest enclosing skill folder (none when it is in no skill).
    """
    root = Path(root)
    if not root.exists():
        raise InputError("path does not exist", path=root, code="SK007")
    if root.is_file():  # a file names the skill that holds it (pre-commit passes files)
        return [folder for folder in (root.parent, *root.parent.parents) if (folder / SKILL_FILE).is_file()][:1]
    if (root / SKILL_FILE).is_file():
        return [root]
    found: list[Path] = []
    for dirpath, dirnames, filenames in walk(root, strict=False, max_depth=MAX_DISCOVERY_DEPTH, skip=frozenset()):
        if SKILL_FILE in filenames and Path(dirpath) != root:
            found.append(Path(dirpath))
            dirnames[:] = []
            continue
        if SYNC_MANIFEST in filenames and Path(dirpath) != root:
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
    return sorted(found)


def stat_identity(st: os.stat_result) -> str | None:
    """``inode:size:mtime_ns:ctime_ns`` of a regular file's ``lstat``, or None for anything else.

    The cache key of everything derived from a file (parsed facts, the search index): like
    git's index, an unchanged identity means the file need not be read again. The change
    time is in it because the mtime is not evidence: ``touch -r`` puts it back after an
    in-place edit that kept the size, while no unprivileged call can set the ctime. Symlinks
    and special files get None, so they are always re-read and their checks always run.
    """
    if (st.st_mode & 0o170000) != 0o100000:  # not a regular file
        return None
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def relpath(path: Path, root: Path) -> str:
    """*path* relative to *root* when inside it (POSIX separators), else as given."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):  # outside root, or a symlink loop resolve() cannot follow
        return Path(path).as_posix()
