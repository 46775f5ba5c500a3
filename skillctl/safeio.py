"""Reading hostile files without hanging or exploding: regular files only, YAML on a budget.

Everything skillctl reads from a skill, a lock, a config or a rule pack may have been written
by an attacker. Two classic ways to stall a tool that merely *reads* are covered here, once,
for every reader:

- A FIFO (or a device, or a socket) where a file is expected: ``open()`` blocks forever
  waiting for a writer. Files are opened with ``O_NONBLOCK`` and checked with ``fstat`` on the
  open descriptor (no window between check and use), so anything but a regular file is
  refused with ``SK017`` instead.
- A folder nested thousands deep: ``os.walk`` and ``shutil.rmtree`` recurse on Python < 3.12
  and die with ``RecursionError``, and paths past ``PATH_MAX`` fail to list, so a walker that
  ignores errors silently skips what lies below (a scan bypass). ``walk`` is iterative and
  refuses a skill deeper than ``MAX_TREE_DEPTH`` folders or with a path longer than
  ``MAX_TREE_PATH`` (``SK020``); real skills are a few levels deep.
- A YAML alias bomb ("billion laughs"): a few hundred bytes whose anchors expand to billions
  of nodes once anything walks or serialises the data. The node graph is composed first and
  its *expanded* size counted (shared subtrees counted as often as they are referenced, as
  every consumer would see them); past the budget it is refused with ``SK018`` before any
  Python object is built.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from skillctl.errors import InputError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Expanded YAML nodes a document that shares nodes (uses aliases) may have. A tree has exactly
#: the nodes its text spells out and is bounded by the reader's byte limit instead (a 40,000-
#: entry lock has ~1.5 M); a SKILL.md frontmatter has a few dozen.
MAX_YAML_NODES = 1_000_000
#: Aliases a document may use at all. Real skillctl files use none; a handful is generous.
MAX_YAML_ALIASES = 1_000

NOT_REGULAR = "SK017"
YAML_BUDGET = "SK018"
TREE_LIMIT = "SK020"

#: Folders below a skill's root that a skill may nest (real skills: under ten).
MAX_TREE_DEPTH = 32
#: Characters of a path relative to the skill folder (PATH_MAX is 4,096 on Linux).
MAX_TREE_PATH = 1024


def kind_of(mode: int) -> str:
    """A human name for what a non-regular file is, for the error message."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def refuse_special(path: Path, mode: int) -> None:
    """Raise SK017 unless *mode* is a regular file, a directory or a symlink (a tree walk's view)."""
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
        raise InputError(f"is {kind_of(mode)}; only regular files and folders are read", path=path,
                         code=NOT_REGULAR)


def walk(top: Path | str, *, strict: bool = True, max_depth: int = MAX_TREE_DEPTH,
         skip: frozenset[str] = frozenset({".git"})) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(top, followlinks=False)``, iterative and bounded: ``(dirpath, dirnames, filenames)``.

    Top-down; the caller may prune *dirnames* in place. Folders named in *skip* are left out,
    a symlink to a folder is listed among the files (never entered). *strict* (a skill folder,
    whose every file the digest and scan must see): a folder that cannot be listed is
    ``SK008`` and one deeper than *max_depth* or with a path over ``MAX_TREE_PATH`` is
    ``SK020``. Not strict (searching a tree for skills): such folders are passed over.
    """
    root = os.fspath(top)
    stack: list[tuple[str, int]] = [(root, 0)]
    while stack:
        path, depth = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as exc:
            if strict:
                raise InputError(f"cannot list folder: {exc.strerror}", path=path, code="SK008") from None
            continue
        dirnames: list[str] = []
        filenames: list[str] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name not in skip:
                    dirnames.append(entry.name)
            else:
                filenames.append(entry.name)
        yield path, dirnames, filenames
        for name in reversed(dirnames):
            child = os.path.join(path, name)
            if depth + 1 > max_depth or len(child) - len(root) > MAX_TREE_PATH:
                if strict:
                    raise InputError(f"folders nest deeper than {max_depth} levels or paths run past "
                                     f"{MAX_TREE_PATH} characters; refusing to read further", path=root,
                                     code=TREE_LIMIT)
                continue
            stack.append((child, depth + 1))


def special_files(folder: Path) -> list[tuple[Path, str]]:
    """Every entry under *folder* that is neither a regular file, a folder nor a symlink.

    Only ``lstat``: listing what is there never opens it, so this cannot block.
    """
    found: list[tuple[Path, str]] = []
    for dirpath, _dirnames, filenames in walk(folder):
        for name in filenames:
            path = Path(dirpath) / name
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                found.append((path, kind_of(mode)))
    return sorted(found)


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """The bytes of *path* (at most *limit* + 1 of them), refusing anything but a regular file.

    Follows a final symlink like ``open()`` does (callers decide about links beforehand), but
    never blocks: a FIFO opened with ``O_NONBLOCK`` returns at once and is then refused.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO on some systems
            raise InputError("is a socket or FIFO; only regular files are read", path=path,
                             code=NOT_REGULAR) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise InputError(f"is {kind_of(mode)}; only regular files are read", path=path, code=NOT_REGULAR)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            return fh.read() if limit is None else fh.read(limit + 1)
    finally:
        if fd >= 0:
            os.close(fd)


def compose_bounded(source: str, path: Path | str, line_offset: int = 1,
                    max_nodes: int = MAX_YAML_NODES) -> tuple[Any, yaml.Node | None]:
    """Compose one YAML document and check its expanded size; returns ``(loader, node)``.

    The caller constructs from the node (``loader.construct_document``) and must call
    ``loader.dispose()``. YAML errors propagate as ``yaml.YAMLError`` for the caller to word;
    only the budget is judged here.
    """
    loader = _Loader(source)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_budget(node, path, line_offset, max_nodes)
    except BaseException:
        loader.dispose()
        raise
    return loader, node


def check_budget(root: yaml.Node, path: Path | str, line_offset: int = 1,
                 max_nodes: int = MAX_YAML_NODES) -> None:
    """Refuse a node graph whose expansion exceeds *max_nodes*, or that uses too many aliases.

    Sizes are memoised per node, so counting costs time linear in the *composed* graph even
    when its expansion is astronomically large; a self-referencing anchor is refused too.
    """
    def fail(why: str, node: yaml.Node) -> None:
        raise InputError(f"YAML {why}; refusing to expand it (alias bomb?)", path=path,
                         line=node.start_mark.line + line_offset, code=YAML_BUDGET)

    aliases = _alias_count(root)
    if aliases > MAX_YAML_ALIASES:
        fail(f"uses {aliases:,} aliases (more than {MAX_YAML_ALIASES:,})", root)
    if aliases == 0:
        # A tree expands to exactly the nodes its text spells out, and the text's size was
        # bounded by whoever read it: only shared nodes can make the expansion outgrow the
        # text. Skipping the walk keeps a 40,000-entry lock (1.5 M nodes) readable and fast.
        return
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    # Iterative post-order walk: deep nesting must not hit Python's recursion limit.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > max_nodes:
                fail(f"document expands to more than {max_nodes:,} nodes", node)
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            fail("anchor refers to itself", node)
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                fail("anchor refers to itself", child)
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _alias_count(root: yaml.Node) -> int:
    """Edges pointing at a node already reached: each is an alias in the source text."""
    reached: set[int] = set()
    seen, mapping, sequence = reached.add, yaml.MappingNode, yaml.SequenceNode
    aliases = 0
    stack = [root]
    push, pop = stack.append, stack.pop
    while stack:
        node = pop()
        key = id(node)
        if key in reached:
            aliases += 1
            continue
        seen(key)
        cls = type(node)
        if cls is mapping:
            for k, v in node.value:
                push(k)
                push(v)
        elif cls is sequence:
            stack.extend(node.value)
    return aliases


def load_bounded(source: str, path: Path | str, line_offset: int = 1, max_nodes: int = MAX_YAML_NODES) -> Any:
    """``yaml.safe_load`` with the budget: the one way skillctl turns untrusted YAML into data."""
    loader, node = compose_bounded(source, path, line_offset, max_nodes)
    try:
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
