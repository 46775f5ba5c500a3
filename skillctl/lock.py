"""``skills.lock``: read, write (atomically, under a file lock) and digest skill folders.

The lock is committed and reviewed, so its text must be stable: skills sorted by name, entry
fields in a fixed order, flow style only for the small ``checks``/``env`` maps, timestamps as
``YYYY-MM-DDTHH:MM:SSZ``, and a last line that marks the end (a lock cut short is detected, not
read as one with fewer skills). Writing an unchanged lock yields a byte-identical file. A lock we
cannot understand is never overwritten: the user's history matters more than our update.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from skillctl.clock import format_ts
from skillctl.errors import InputError, LockError
from skillctl.lockmodel import Lock, LockEntry
from skillctl.repo import LOCK_NAME
from skillctl.safeio import MAX_TREE_DEPTH, TREE_LIMIT, load_bounded, read_regular, refuse_special, walk

LOCK_VERSION = 1
MAX_LOCK_BYTES = 64 * 1024 * 1024
ENTRY_ORDER = (
    "version", "path", "origin", "source", "digest", "status", "reason", "since", "verified_at", "verified_commit",
    "expires_at", "checks", "env", "findings", "notes", "approval", "tier", "source_tier", "signed_by", "signature",
)
FLOW_MAPS = frozenset({"checks", "env"})
HEADER = "# skills.lock: lifecycle state of every skill, written by skillctl. Review, don't hand-edit.\n"
FORMAT_LINE = "# The last line must be the end marker below; a lock without it was cut short (corrupt).\n"
END_MARKER = "# end of skills.lock\n"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FLOW_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+/@=-]*$")


def lock_path(root: Path) -> Path:
    return Path(root) / LOCK_NAME


def read_lock(root: Path, *, missing_ok: bool = True) -> Lock:
    """Parse the lock. Missing -> empty lock (or LockError if not *missing_ok*); corrupt -> LockError."""
    path = lock_path(root)
    if not path.exists():
        if missing_ok:
            return Lock()
        raise LockError("no skills.lock here (run `skillctl init`?)", path=path, code="SC021")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_LOCK_BYTES + 1)
    except OSError as exc:
        raise LockError(f"cannot read lock: {exc.strerror}", path=path, code="SC022") from None
    if len(raw) > MAX_LOCK_BYTES:
        raise LockError("lock file is implausibly large; refusing to read it", path=path, code="SC022")
    return parse_lock(raw, path)


def parse_lock(raw: bytes, path: Path) -> Lock:
    """Validate *raw* as a lock, including that it ends where its format says it ends."""
    try:
        data = load_bounded(raw.decode("utf-8"), path)
    except InputError as exc:  # the YAML budget: an alias bomb is no lock
        raise LockError(f"lock is corrupt: {exc.message}", path=path, line=exc.line, code=exc.code) from None
    except UnicodeDecodeError:
        raise LockError("lock is not valid UTF-8; it is corrupt", path=path, code="SC023") from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise LockError(f"lock is corrupt: YAML error: {exc.problem}", path=path, line=line,
                        code="SC023") from None
    except yaml.YAMLError as exc:
        raise LockError(f"lock is corrupt: {exc}", path=path, code="SC023") from None
    if not isinstance(data, dict):
        raise LockError("lock is corrupt: expected a mapping with 'version' and 'skills'", path=path,
                        code="SC023")
    if data.get("version") != LOCK_VERSION:
        raise LockError(
            f"unknown lock version {data.get('version')!r} (this skillctl understands {LOCK_VERSION}); "
            "upgrade skillctl - the file is left untouched", path=path, code="SC024")
    skills = data.get("skills") or {}
    if not isinstance(skills, dict):
        raise LockError("lock is corrupt: 'skills' must be a mapping", path=path, code="SC023")
    entries: dict[str, LockEntry] = {}
    for name, value in skills.items():
        try:
            entries[str(name)] = LockEntry.model_validate(value or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            raise LockError(f"lock is corrupt: {where}: {first['msg']}", path=path,
                            line=_line_of(raw, f"  {name}:"), code="SC023") from None
    _check_complete(raw, path, skills)
    return Lock(version=1, skills=entries)


def _check_complete(raw: bytes, path: Path, skills: dict[Any, Any]) -> None:
    """A lock cut short mid-entry is still valid YAML: its last entry just loses fields. So the
    format ends with ``END_MARKER``, announced by ``FORMAT_LINE`` near the top; a lock that
    announces it must end with it. Locks written before the marker existed are accepted when
    their text ends with a newline and their last entry reached ``findings``, the field every
    written entry has after its evidence.
    """
    text = raw.decode("utf-8")
    lines = text.split("\n")
    if FORMAT_LINE in text or END_MARKER.rstrip("\n") in lines:
        if not text.endswith("\n" + END_MARKER) and text != END_MARKER:
            where = "does not end with" if END_MARKER.rstrip("\n") in lines else "has no"
            raise LockError(f"lock is corrupt: it {where} the end marker {END_MARKER.strip()!r}, so it "
                            "was cut short or appended to; restore it from git", path=path,
                            line=len(lines), code="SC026")
        return
    if not skills:
        return
    last = list(skills)[-1]
    if not text.endswith("\n") or not isinstance(skills[last], dict) or "findings" not in skills[last]:
        raise LockError(f"lock is corrupt: its last entry {last!r} is incomplete (no 'findings'); the file "
                        "was probably cut short - restore it from git", path=path,
                        line=len(lines), code="SC026")


def _line_of(raw: bytes, prefix: str) -> int | None:
    for i, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if line.startswith(prefix):
            return i
    return None


def _scalar(value: Any) -> str:
    """A YAML scalar that reads back as exactly *value* (quoted only when it must be)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if text and text.strip() == text and "\n" not in text and text.isprintable():
        try:
            if yaml.load(text, Loader=_Loader) == text:
                return text
        except yaml.YAMLError:
            pass
    return _yaml_safe(json.dumps(text, ensure_ascii=False))


def _yaml_safe(quoted: str) -> str:
    """JSON leaves DEL, C1 controls and other non-printables raw; YAML refuses them: escape them."""
    if quoted.isprintable():
        return quoted
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
                   for ch in quoted)


def _in_flow(value: Any) -> str:
    """A scalar inside ``{...}`` or ``[...]``, where ``[]{},`` end a plain scalar: quote those."""
    out = _scalar(value)
    if not out.startswith('"') and not _FLOW_SAFE.match(out):
        out = _yaml_safe(json.dumps(str(value), ensure_ascii=False))
    return out


def _flow(value: Any) -> str:
    """A scalar, or a short list of scalars in flow style (``allow: [network+env]``)."""
    if isinstance(value, list):
        return "[" + ", ".join(_in_flow(v) for v in value) + "]"
    return _scalar(value)


def dump_lock(lock: Lock) -> str:
    """Serialise deterministically (see module docstring)."""
    out = [HEADER, FORMAT_LINE, f"version: {LOCK_VERSION}\n"]
    if not lock.skills:
        out.append("skills: {}\n")
        out.append(END_MARKER)
        return "".join(out)
    out.append("skills:\n")
    for name in sorted(lock.skills):
        out.append(f"  {_scalar(name)}:\n")
        data = lock.skills[name].model_dump(mode="python")
        for key in ENTRY_ORDER:
            value = data.get(key)
            if value is None or (key in ("notes", "path") and not value):
                continue
            if key in FLOW_MAPS:
                items = ", ".join(f"{_in_flow(k)}: {_in_flow(v)}" for k, v in sorted(value.items()))
                out.append(f"    {key}: {{{items}}}\n")
            elif isinstance(value, list):
                if not value:
                    out.append(f"    {key}: []\n")
                else:
                    out.append(f"    {key}:\n")
                    out.extend(f"      - {_scalar(v)}\n" for v in value)
            elif isinstance(value, dict):
                out.append(f"    {key}:\n")
                out.extend(f"      {k}: {_flow(v)}\n" for k, v in value.items() if v is not None and v != [])
            else:
                out.append(f"    {key}: {_scalar(value)}\n")
    out.append(END_MARKER)
    return "".join(out)


def atomic_write(path: Path, text: str) -> None:
    """Write via a temp file in the same directory + fsync + rename: old or new, never a mix."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _target_mode(path))
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _target_mode(path: Path) -> int:
    """Keep an existing file's mode; new files get the usual 0666 & ~umask, not mkstemp's 0600."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def file_lock(root: Path) -> Iterator[None]:
    """Exclusive advisory lock serialising every writer of this repo's lock (CLI, scheduler)."""
    state = Path(root) / ".skillctl"
    try:
        state.mkdir(exist_ok=True)
        fh = open(state / "lock.flock", "a+")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise LockError(f"cannot create the lock guard: {exc.strerror}", path=state, code="SC025") from None
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write_lock(root: Path, lock: Lock) -> bool:
    """Write *lock* (under the file lock). Returns False when the text was already identical."""
    with file_lock(root):
        return _write_unlocked(root, lock)


def _write_unlocked(root: Path, lock: Lock) -> bool:
    path = lock_path(root)
    # A writer killed mid-write leaves its temp file behind; holding the guard, no live writer
    # owns one, so they are safe to sweep.
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()
    text = dump_lock(lock)
    if path.exists() and path.read_text(encoding="utf-8", errors="replace") == text:
        return False
    atomic_write(path, text)
    return True


@contextlib.contextmanager
def lock_transaction(root: Path) -> Iterator[Lock]:
    """Read-modify-write the lock while holding the file lock, so concurrent writers lose nothing.

    The lock is written only if the block completes; an exception leaves the old file.
    """
    with file_lock(root):
        lock = read_lock(root)
        yield lock
        _write_unlocked(root, lock)


def skill_digest(folder: Path, root: Path | None = None) -> str:
    """sha256 over what the skill *is*: sorted relative paths, file modes and contents.

    ``.git`` is ignored. A file's executable bit is part of it (``chmod +x`` turns data into a
    program; other mode bits depend on the umask and would make digests machine-specific).
    A symlink contributes its target text *and* what it points to: a script that links to a
    shared file inside the repo must lose its verdict when that file changes, or a one-line
    edit elsewhere would turn a verified skill into ``curl … | sh`` unnoticed. A link that
    resolves outside *root* (default: the repo holding the folder) is refused (SK006):
    skillctl never vouches for bytes outside the repository. Only regular files are read;
    anything else (FIFO, device, socket), also behind a link, is refused (SK017), never opened.
    """
    folder, boundary = _digest_start(folder, root)
    h = hashlib.sha256()
    _hash_tree(h, folder, boundary, {})
    return "sha256:" + h.hexdigest()


def _digest_start(folder: Path, root: Path | None) -> tuple[Path, Path]:
    """The skill folder, and the boundary its links may not leave (*root*, else its repository)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("skill folder does not exist", path=folder, code="SK007")
    from skillctl.repo import find_repo_root

    return folder, Path(root).resolve() if root is not None else find_repo_root(folder)


def copy_digests(folder: Path) -> tuple[str, str]:
    """``skill_digest(folder)``, and the digest of sync's copy of it, from one read of every file.

    A copy in an agent's folder cannot keep a link that leaves the skill folder (a script
    shared from elsewhere in the repo): its relative text would point somewhere else there. So
    the copy holds the file the link points to, and its digest (``skill_digest(copy,
    root=copy)``) differs from the skill's. Both are computed in the same pass, each file read
    once, so a copy can be checked against a source state whose own digest was verified. A link
    leaving the folder for a folder or for nothing has no faithful copy (SC065).
    """
    folder, boundary = _digest_start(folder, None)
    h, flat = hashlib.sha256(), hashlib.sha256()
    _hash_tree(h, folder, boundary, {}, copy=(flat, folder))
    return "sha256:" + h.hexdigest(), "sha256:" + flat.hexdigest()


class _Both:
    """Two hashers fed the same bytes."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b

    def update(self, data: bytes) -> None:
        self.a.update(data)
        self.b.update(data)


def leaves(link: Path, folder: Path) -> bool:
    """Could a copy of *folder* kept elsewhere not keep the symlink *link* (below *folder*) as a link?

    So when its text is absolute, or climbs out of *folder* (even to come back in: from the
    copy's place it would climb into whatever surrounds the copy), both decided from the text
    alone, or when it resolves outside *folder* through other links (or loops). A link that
    stays resolves the same way in a copy.
    """
    try:
        text = os.readlink(link)
        # where the link sits, physically: a link inside a folder reached through another link
        # (bin -> scripts) sits in scripts/, and its text is read from there
        here = os.path.relpath(os.path.realpath(os.path.dirname(link)), os.path.realpath(folder))
    except OSError:
        return True  # gone or replaced meanwhile: resolved (and refused) by whoever reads it
    where = os.path.normpath(os.path.join(here, text))
    if os.path.isabs(text) or where == ".." or where.startswith("../"):
        return True
    try:
        _kernel_stat(link)  # past 40 hops the kernel gives up: so does this, before Python's resolve walks them
    except FileNotFoundError:
        pass  # dangling (in a copy: through a link that leaves it): decided by where its text leads
    except OSError:
        return True  # a loop, or too many hops: no copy of it either (the digest refuses it)
    try:
        resolved, top = link.resolve(strict=False), folder.resolve()
    except (OSError, RuntimeError):
        return True
    return resolved != top and top not in resolved.parents


@dataclass
class _Walk:
    """What one digest carries down into linked folders."""

    boundary: Path  # links may not resolve outside it (the repository)
    top: Path  # the skill folder, resolved: cycles are named relative to it
    entered: dict[Path, str] = field(default_factory=dict)  # linked folder -> the link that hashed it


def _hash_tree(h: Any, folder: Path, boundary: Path, seen: dict[Path, str],
               copy: tuple[Any, Path] | None = None, walk_state: _Walk | None = None, prefix: str = "") -> None:
    """Hash *folder* into *h*; with *copy* (a second hasher, the skill folder), also as sync copies it.

    *seen*: the folders on the way here, each with the path in the skill it was entered by (a
    link back to one is a cycle, named by that path: the folder's content sits there in the
    stream). Every linked folder is hashed once per digest; a later link to it names the first
    link (*prefix*: the path of the link this folder was entered by). Otherwise folders that
    each link twice to the next would be hashed 2**n times; a chain of links too deep for the
    stack is refused (SK020) instead of overflowing it.
    """
    if walk_state is None:
        walk_state = _Walk(boundary, folder.resolve())
    elif len(seen) > MAX_TREE_DEPTH:
        raise InputError(f"links to folders nest deeper than {MAX_TREE_DEPTH}; refusing to read further",
                         path=folder, code=TREE_LIMIT)
    seen = {**seen, folder.resolve(): prefix}
    entries: list[tuple[str, Path]] = []
    # the skill's own .git (at its top) is left out by design; any other would be files an
    # agent can read that neither the digest nor the scan covers
    for dirpath, dirnames, filenames in walk(folder, skip=frozenset()):
        if ".git" in dirnames:
            if prefix or dirpath != os.fspath(folder):
                raise InputError("a .git folder below the skill's top (or in a folder linked into it), which "
                                 "neither the digest nor the scan covers; refused", path=Path(dirpath) / ".git",
                                 code="SK006")
            dirnames.remove(".git")
        base = Path(dirpath)  # a link to a folder is among the files: hashed as a link, never entered
        for f in filenames:
            entries.append(((base / f).relative_to(folder).as_posix(), base / f))
    both = _Both(h, copy[0]) if copy is not None else h
    for rel, path in sorted(entries):
        both.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        try:
            mode = os.lstat(path).st_mode
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror}", path=path, code="SK008") from None
        refuse_special(path, mode)  # a FIFO would block the read below forever
        if stat.S_ISLNK(mode):
            try:
                target = os.readlink(path)
            except OSError as exc:  # replaced since the lstat above
                raise InputError(f"cannot read link: {exc.strerror}", path=path, code="SK008") from None
            if copy is not None and leaves(path, copy[1]):
                outside = copied_target(path, boundary)
                h.update(b"symlink\0" + target.encode("utf-8", "surrogateescape") + b"\0target\0")
                _hash_file(_Both(h, copy[0]), outside)  # the copy holds the target's bytes, read once
            else:
                both.update(b"symlink\0" + target.encode("utf-8", "surrogateescape"))
                _hash_link_target(h, copy, path, seen, walk_state, prefix + rel)
        else:
            _hash_file(both, path)
        both.update(b"\0")


def copied_target(link: Path, boundary: Path) -> Path:
    """The file a copy holds in place of *link*, which leaves the skill folder (``leaves``):
    where it resolves inside the repository (``resolve_link``). A folder or nothing has no
    faithful copy (SC065)."""
    outside = resolve_link(link, boundary)
    if outside is None or not outside.is_file():
        raise InputError("links outside the skill folder to a folder or to nothing: a copy cannot hold it "
                         "(sync it with --mode link)", path=link, code="SC065")
    return outside


def _kernel_stat(link: Path) -> None:
    """``stat`` through *link* from its folder's real path: the kernel counts the link's own hops
    (40 at most), not those of a symlinked folder the skill happens to be reached through."""
    os.stat(os.path.join(os.path.realpath(os.path.dirname(link)), os.path.basename(link)))


def resolve_link(link: Path, boundary: Path) -> Path | None:
    """Where *link* resolves as the operating system resolves it (None when a hop is missing:
    ``Path.resolve`` would go on by text past a missing folder, ``E/../x`` to ``x``, while
    the system resolves nothing). Refused (SK006) when that is outside the repository, inside a
    ``.git`` folder (whose files no digest covers), or a loop."""
    try:
        _kernel_stat(link)  # the kernel's resolution first: it gives up after 40 hops (ELOOP), as agents' reads do
        resolved = link.resolve(strict=True)
    except FileNotFoundError:
        try:
            _check_boundary(link, link.resolve(), boundary)  # a dangling link out of the repo is refused too
        except (OSError, RuntimeError):
            raise InputError("symlink loop; refused", path=link, code="SK006") from None
        return None
    except (OSError, RuntimeError):  # a loop of links
        raise InputError("symlink loop; refused", path=link, code="SK006") from None
    _check_boundary(link, resolved, boundary)
    if ".git" in resolved.relative_to(boundary).parts:
        raise InputError("symlink points into a .git folder, which no digest covers; refused", path=link,
                         code="SK006")
    return resolved


def _hash_link_target(h: Any, copy: tuple[Any, Path] | None, link: Path, seen: dict[Path, str], state: _Walk,
                      logical: str) -> None:
    """The rest of a link's record: what it resolves to. With *copy*, the copy's hasher is fed
    the same, and a linked folder inside the skill is hashed as the copy holds it too."""
    both = _Both(h, copy[0]) if copy is not None else h
    resolved = resolve_link(link, state.boundary)
    if resolved is None:
        both.update(b"\0missing")
    elif resolved.is_dir():
        inside = resolved == state.top or state.top in resolved.parents
        if not inside and any(resolved in p.parents for p in seen):
            raise InputError("symlink points to a folder that holds the skill, or a folder linked into it: "
                             "everything in it would count as part of the skill; refused", path=link, code="SK006")
        if resolved in seen:  # back to a folder on the way here: its content sits at that path in the stream
            both.update(b"\0cycle\0" + seen[resolved].encode("utf-8", "surrogateescape"))
        elif resolved in state.entered:  # hashed once already: the link that hashed it, not again
            both.update(b"\0again\0" + state.entered[resolved].encode("utf-8", "surrogateescape"))
        else:
            state.entered[resolved] = logical
            both.update(b"\0tree\0")
            _hash_tree(h, resolved, state.boundary, seen, copy=copy, walk_state=state, prefix=logical + "/")
    else:
        both.update(b"\0target\0")
        _hash_file(both, resolved)


def _check_boundary(link: Path, resolved: Path, boundary: Path) -> None:
    if resolved != boundary and boundary not in resolved.parents:
        raise InputError(f"symlink points outside the repository (to {resolved}); refused", path=link,
                         code="SK006")


def _hash_file(h: Any, path: Path) -> None:
    """Mode bit and bytes of a regular file (a link's target included); anything else is SK017.

    The digest strings its fields together with NUL bytes, so it stays one-to-one only while
    no field can hold a NUL. Paths and link texts cannot; text files do not. Bytes that do (a
    PNG, a zip) could otherwise spell out "the end of this file, then another file": a skill
    verified with ``logo.png`` ending in ``\0run.sh\0file\0x\0<script>`` could later be
    split into a shorter ``logo.png`` and an executable ``run.sh`` with the same digest. Such
    content is hashed as a ``blob`` with its length first, so it ends where the digest says.
    The digests of NUL-free trees, every one recorded before this rule, are unchanged.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path, code="SK008") from None
    refuse_special(path, st.st_mode)  # also behind a link: a FIFO is never opened for reading
    try:
        data = read_regular(path)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path, code="SK008") from None
    mode = b"x\0" if st.st_mode & 0o111 else b"-\0"
    if b"\0" in data:
        h.update(b"blob\0" + mode + str(len(data)).encode() + b"\0" + data)
    else:
        h.update(b"file\0" + mode + data)
