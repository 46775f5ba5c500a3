"""Which files a skill has, what kind each is, and which ones are binaries someone may run.

Every file of a skill is scanned, not just SKILL.md: the Feb 2026 payloads sat in
``scripts/`` and in references the body told the agent to read. Files are read once, with a
size cap, and never through a symlink; a FIFO, socket or device is never opened (it would
hang the reader) but reported as a finding of its skill.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skillctl.errors import InputError
from skillctl.safeio import MAX_TREE_DEPTH, MAX_TREE_PATH, kind_of, read_regular, refuse_special

MAX_SCAN_BYTES = 4 * 1024 * 1024
SKIP_DIRS = frozenset({".git", "__pycache__", "node_modules", ".venv"})
SCRIPT_SUFFIXES = frozenset({
    ".sh", ".bash", ".zsh", ".fish", ".ksh", ".py", ".pyw", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl",
    ".php", ".ps1", ".psm1", ".bat", ".cmd", ".vbs", ".lua", ".r", ".jl", ".applescript", ".scpt",
})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
# Magic numbers of native executables and of archives that can smuggle them.
_EXEC_MAGIC = (b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_ARCHIVE_SUFFIXES = frozenset({".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".xz", ".bz2", ".jar", ".apk",
                               ".dmg", ".pkg", ".msi", ".deb", ".rpm", ".appimage", ".exe", ".dll", ".so",
                               ".dylib", ".bin", ".elf"})


@dataclass
class SkillFile:
    """One file of a skill as the scanner sees it."""

    path: Path
    rel: str
    kind: str  # scripts | references
    text: str | None  # None for binaries and unreadable files
    executable: bool = False
    native: bool = False  # a native executable or an archive that may carry one
    too_large: bool = False
    symlink_target: str | None = None
    special: str | None = None  # "a FIFO (named pipe)", a socket, a device: never opened (SK017)
    unreadable: str | None = None  # a folder not listed (too deep, path too long, no access): SK020/SK008

    @property
    def markdown(self) -> bool:
        return self.path.suffix.lower() in MARKDOWN_SUFFIXES


def _kind(rel: str, head: bytes, suffix: str) -> str:
    if rel.startswith("scripts/") or suffix in SCRIPT_SUFFIXES or head.startswith(b"#!"):
        return "scripts"
    return "references"


def _decode(data: bytes) -> str | None:
    if b"\x00" in data[:8192]:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def read_text(path: Path) -> str | None:
    """One file's text with the scanner's cap and normalisation; None if binary or unreadable."""
    try:
        return _decode(read_regular(path, MAX_SCAN_BYTES)[:MAX_SCAN_BYTES])
    except (OSError, InputError):
        return None


def skill_files(folder: Path, *, include_skill_md: bool = False) -> Iterator[SkillFile]:
    """Every file under *folder* except SKILL.md (scanned from the parsed skill), sorted."""
    folder = Path(folder)
    stack = [("", str(folder), 0)]
    while stack:
        prefix, directory, depth = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:  # what lies below was not read: said, never skipped in silence
            if prefix:
                yield SkillFile(Path(directory), prefix.rstrip("/"), "references", None,
                                unreadable=f"folder cannot be listed ({exc.strerror}, SK008)")
            continue
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIP_DIRS:
                    continue
                if depth + 1 > MAX_TREE_DEPTH or len(rel) > MAX_TREE_PATH:
                    yield SkillFile(Path(entry.path), rel, "references", None,
                                    unreadable=f"folders nest deeper than {MAX_TREE_DEPTH} levels or paths run past "
                                               f"{MAX_TREE_PATH} characters (SK020)")
                    continue
                subdirs.append((rel + "/", entry.path, depth + 1))
                continue
            if rel == "SKILL.md" and not include_skill_md:
                continue
            yield from _one_file(Path(entry.path), rel, entry.is_symlink())
        stack.extend(reversed(subdirs))


def _one_file(path: Path, rel: str, symlink: bool) -> Iterator[SkillFile]:
    if symlink:
        yield SkillFile(path, rel, "references", None, symlink_target=os.readlink(path))
        return
    suffix = path.suffix.lower()
    try:
        st = os.lstat(path)
        refuse_special(path, st.st_mode)  # SK017: a FIFO would hang the read below
        size = st.st_size
        executable = os.access(path, os.X_OK)
        data = read_regular(path, MAX_SCAN_BYTES)
    except InputError:  # reported for this skill; the other skills of the run are still scanned
        kind = "a special file"
        with contextlib.suppress(OSError):
            kind = kind_of(os.lstat(path).st_mode)
        yield SkillFile(path, rel, "references", None, special=kind)
        return
    except OSError:
        return
    native = data.startswith(_EXEC_MAGIC[:-1]) or suffix in _ARCHIVE_SUFFIXES
    kind = _kind(rel, data[:64], suffix)
    if size > MAX_SCAN_BYTES:
        yield SkillFile(path, rel, kind, None, executable, native, too_large=True)
        return
    yield SkillFile(path, rel, kind, None if native else _decode(data), executable, native)


_RUN_VERBS = re.compile(
    r"(?:\./|\b(?:run|execute|launch|start|open|install|chmod\s+\+x|sudo|bash|sh|exec)\s+(?:the\s+)?[`'\"]?"
    r"(?:\S*/)?)",
    re.IGNORECASE,
)


def asks_to_run(text: str, rel: str) -> int | None:
    """The line on which *text* tells someone to run the file *rel*, if it does."""
    name = re.escape(rel.rsplit("/", 1)[-1])
    pattern = re.compile(_RUN_VERBS.pattern + name + r"\b", re.IGNORECASE)
    m = pattern.search(text)
    if m is None:
        return None
    return text.count("\n", 0, m.start()) + 1
