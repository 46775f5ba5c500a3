"""Finding the skills repo and the skill folders inside it."""

from __future__ import annotations

import os
import time
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


#: How long after its last change an ``lstat`` is trusted to stand for the content (ns). A
#: file's times come from a clock that may tick only every few milliseconds (a kernel without
#: fine-grained timestamps) or every 2 s (FAT): two same-size writes within one tick leave the
#: same ``lstat``. Git calls such an entry "racily clean" and reads it again; here an ``lstat``
#: younger than this never vouches for what was read, so the next look reads the files again.
#: It must be at least the coarsest tick: then any later write gets a later time.
RACY_NS = 2_000_000_000


def wall_clock_ns() -> int:
    """The kernel's real-time clock, which stamps file times (``time.time_ns`` is what freezegun
    moves in tests; the file times it would be compared with never move)."""
    return time.clock_gettime_ns(time.CLOCK_REALTIME)


def settled(st: os.stat_result, now_ns: int) -> bool:
    """Has the entry *st* been left alone long enough (``RACY_NS``) for its ``lstat`` to vouch
    for its content? A time in the future (clock skew, ``touch -d``) never has."""
    return max(st.st_mtime_ns, st.st_ctime_ns) <= now_ns - RACY_NS


def stat_identity(st: os.stat_result) -> str | None:
    """``inode:size:mtime_ns:ctime_ns`` of a regular file's ``lstat``, or None when it cannot
    stand for the file's content.

    The cache key of everything derived from a file (parsed facts, the search index): like
    git's index, an unchanged identity means the file need not be read again. The change
    time is in it because the mtime is not evidence: ``touch -r`` puts it back after an
    in-place edit that kept the size, while no unprivileged call can set the ctime. Symlinks
    and special files get None, so they are always re-read and their checks always run; so
    does a file changed within ``RACY_NS`` of the wall clock, whose next same-size write may
    keep every field.
    """
    if (st.st_mode & 0o170000) != 0o100000:  # not a regular file
        return None
    if not settled(st, wall_clock_ns()):
        return None
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def relpath(path: Path, root: Path) -> str:
    """*path* relative to *root* when inside it (POSIX separators), else as given."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):  # outside root, or a symlink loop resolve() cannot follow
        return Path(path).as_posix()
