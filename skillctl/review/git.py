"""Skill folders as they are at a git commit, read without touching the work tree.

A review compares two commits while the user (or CI) may have anything checked out, so
nothing here runs ``git checkout``. One ``git ls-tree`` per ref lists every blob under the
skills root; comparing blob ids tells which skills changed before any content is read; only
those are then written, blob by blob, into a private temporary directory where the ordinary
parser and scanner read them like any other skill folder.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from skillctl.errors import GitError
from skillctl.repo import SKILL_FILE, SKIP_DIRS

if TYPE_CHECKING:
    import git

MODE_LINK = "120000"
MODE_EXEC = "100755"
MODE_SUBMODULE = "160000"
TEXT_LIMIT = 1024 * 1024
"""Files up to this size are also kept decoded in memory for command and URL analysis."""


@dataclass(frozen=True)
class Blob:
    mode: str
    sha: str


@dataclass
class Snapshot:
    """Everything under the skills root at one commit, grouped by skill folder."""

    ref: str
    sha: str
    prefix: str  # skills root relative to the git top level, "" or ending in "/"
    skills: dict[str, dict[str, Blob]] = field(default_factory=dict)  # folder -> rel -> blob
    files: dict[str, Blob] = field(default_factory=dict)  # every path under the prefix

    def blob(self, rel_to_root: str) -> Blob | None:
        return self.files.get(self.prefix + rel_to_root)


def open_git(root: Path) -> tuple[git.Repo, str]:
    """(repo, prefix) for a skills root, which may be a sub-folder of a larger repository."""
    from skillctl.gitops import open_repo

    repo = open_repo(root)
    if repo is None:
        raise GitError("not a git repository (review compares two commits)", path=root, code="SC031")
    top = Path(repo.working_tree_dir or repo.git_dir).resolve()
    try:
        rel = Path(root).resolve().relative_to(top).as_posix()
    except ValueError:
        raise GitError(f"skills root is outside the git work tree {top}", path=root, code="SC031") from None
    return repo, "" if rel == "." else rel + "/"


def snapshot(repo: git.Repo, ref: str, prefix: str, root: Path) -> Snapshot:
    """List the blobs under *prefix* at *ref* and find the skill folders among them."""
    import git

    from skillctl.gitops import resolve_ref

    commit = resolve_ref(root, ref)
    args = ["-r", "-z", "--full-tree", commit.hexsha]
    if prefix:
        args += ["--", prefix]
    try:
        raw = repo.git.ls_tree(*args, stdout_as_string=False)
    except git.GitCommandError as exc:
        raise GitError(f"cannot list the tree of {ref!r}: {exc.stderr.strip() or exc}", path=root,
                       code="SC033") from None
    snap = Snapshot(ref=ref, sha=commit.hexsha, prefix=prefix)
    for record in raw.split(b"\0"):
        if not record:
            continue
        meta, _, path_bytes = record.partition(b"\t")
        mode, _kind, sha = meta.decode("ascii").split(" ")
        snap.files[path_bytes.decode("utf-8", "surrogateescape")] = Blob(mode, sha)
    folders = snap.skills = _skill_folders(snap.files, prefix)
    for path, blob in snap.files.items():
        owner = _owner(path, folders)
        if owner is not None:
            rel = path[len(owner) + 1:] if owner else path
            snap.skills[owner][rel] = blob
    return snap


def _skill_folders(files: dict[str, Blob], prefix: str) -> dict[str, dict[str, Blob]]:
    """Folders holding a SKILL.md, the way ``repo.discover_skills`` finds them on disk."""
    root_skill = prefix + SKILL_FILE
    if root_skill in files:
        return {prefix.rstrip("/"): {}}
    candidates = sorted(
        (p[: -len(SKILL_FILE) - 1] for p in files
         if p.endswith("/" + SKILL_FILE) and files[p].mode != MODE_SUBMODULE),
        key=lambda p: (p.count("/"), p),
    )
    folders: dict[str, dict[str, Blob]] = {}
    for folder in candidates:
        below = PurePosixPath(folder[len(prefix):]).parts
        if any(part in SKIP_DIRS for part in below):
            continue
        if any(str(parent) in folders for parent in PurePosixPath(folder).parents):
            continue  # a SKILL.md inside a skill belongs to that skill
        folders[folder] = {}
    return folders


def _owner(path: str, folders: dict[str, dict[str, Blob]]) -> str | None:
    if "" in folders:
        return ""
    for parent in PurePosixPath(path).parents:
        key = str(parent)
        if key in folders:
            return key
    return None


class Blobs:
    """Blob contents by id, fetched in bulk: one ``git cat-file --batch`` for a whole review.

    Asking gitpython for objects one at a time costs a round trip each; a diff touching 500
    skills reads a thousand skill versions.
    """

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo
        self.data: dict[str, bytes] = {}

    def prefetch(self, shas: Iterable[str]) -> None:
        wanted = sorted({s for s in shas if s not in self.data})
        if not wanted:
            return
        proc = subprocess.run(["git", "cat-file", "--batch"], cwd=self.repo.git_dir, capture_output=True,
                              input=("\n".join(wanted) + "\n").encode("ascii"), check=False)
        if proc.returncode != 0:
            raise GitError(f"git cat-file failed: {proc.stderr.decode('utf-8', 'replace').strip()}", code="SC033")
        out, pos = proc.stdout, 0
        while pos < len(out):
            eol = out.index(b"\n", pos)
            sha, kind, *rest = out[pos:eol].decode("ascii").split(" ")
            if kind == "missing":
                raise GitError(f"git object {sha} is missing", code="SC033")
            size = int(rest[0])
            self.data[sha] = out[eol + 1: eol + 1 + size]
            pos = eol + 1 + size + 1

    def get(self, blob: Blob | None) -> bytes | None:
        if blob is None or blob.mode == MODE_SUBMODULE:
            return None
        if blob.sha not in self.data:
            self.prefetch([blob.sha])
        return self.data[blob.sha]


@dataclass
class Extracted:
    """A skill folder written to disk, plus the decoded text of its smaller text files."""

    disk: Path
    texts: dict[str, str] = field(default_factory=dict)
    binary: set[str] = field(default_factory=set)


def extract(store: Blobs, blobs: dict[str, Blob], dest: Path) -> Extracted:
    """Write *blobs* under *dest* (modes and symlinks kept, so digests match the lock's)."""
    out = Extracted(dest)
    dest.mkdir(parents=True, exist_ok=True)
    store.prefetch(b.sha for b in blobs.values() if b.mode != MODE_SUBMODULE)
    for rel, blob in sorted(blobs.items()):
        parts = PurePosixPath(rel).parts
        if not parts or any(p in ("..", "") for p in parts) or PurePosixPath(rel).is_absolute():
            continue  # git never stores these; refuse to write outside dest if a tree does
        data = store.get(blob)
        if data is None:
            continue
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if blob.mode == MODE_LINK:
            os.symlink(os.fsdecode(data), target)
            continue
        target.write_bytes(data)
        if blob.mode == MODE_EXEC:
            target.chmod(0o755)
        if b"\x00" in data[:8192]:
            out.binary.add(rel)
        elif len(data) <= TEXT_LIMIT:
            text = _decode(data)
            if text is None:
                out.binary.add(rel)  # not UTF-8: nothing a reviewer can read in a diff
            else:
                out.texts[rel] = text
    return out


def _decode(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")
