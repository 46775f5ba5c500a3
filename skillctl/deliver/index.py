"""The search index: every skill folder's text in SQLite FTS5, kept current incrementally.

The index lives in ``.skillctl/state.db`` (tables of migration ``_m004_search_index``) and is
derived: a missing or corrupt database is rebuilt by ``skillctl.state``, and an index written
by an older ``INDEX_VERSION`` is emptied and rebuilt here. Nothing in it is trusted for loading.

Keeping it current must cost far less than reading every skill, so a refresh reads only what
changed, the way git's index does:

* discovery reuses each directory's listing while its ``lstat`` (inode, mtime) is unchanged,
  and a known skill folder costs one ``lstat`` of its SKILL.md (``repo.stat_identity``, the
  same file identity the rot audit's fact cache keys on);
* a SKILL.md whose identity changed is parsed again, its folder digested
  (``lock.skill_digest``) and the text re-indexed;
* ``skills.lock`` is parsed only when its own identity changed, and only skills whose lock
  entry changed are judged again.

Loadability is always the loader's decision (``loader.judge``). The index stores the last
verdict so a query can pick candidates, then asks the loader again for every row it returns.
That second judgement needs the folder's digest, which is reused only while a signature of
``lstat`` over every file in the folder is unchanged: a script edited behind SKILL.md's back
changes the signature, so the digest is recomputed and the skill is refused (fail closed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillctl.clock import as_utc, utcnow
from skillctl.errors import InputError
from skillctl.lock import lock_path, read_lock, skill_digest
from skillctl.lockmodel import LockEntry
from skillctl.repo import SKILL_FILE, SKIP_DIRS, stat_identity

if TYPE_CHECKING:
    from skillctl.loader import Observed

INDEX_VERSION = "4"
# bm25 column weights: a word in the name counts most, then the description (what agents are
# shown to decide), then the body.
# The fourth FTS column (``gate``, from migration 004) once held a verdict token; it is left
# empty now (see ``_query``) and weighs nothing.
WEIGHTS = (10.0, 4.0, 1.0, 0.0)
UNTRACKED = "untracked"  # the status shown for a folder skills.lock does not know
MAX_QUERY_CHARS = 1000


@dataclass(frozen=True)
class Hit:
    """One search result: enough to list it, and the loader's verdict on it right now."""

    name: str
    description: str
    path: str
    status: str
    loadable: bool
    reason: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "path": self.path, "status": self.status,
                "loadable": self.loadable, "reason": self.reason, "score": round(self.score, 4)}


@dataclass
class RefreshStats:
    skills: int = 0
    parsed: int = 0
    judged: int = 0
    removed: int = 0
    lock_read: bool = False
    rebuilt: bool = False


@dataclass
class _Row:
    id: int
    path: str
    name: str
    ident: str | None
    deep: str | None
    observed: str | None
    entry: str | None
    loadable: int
    status: str
    reason: str
    expires: float | None
    judged: float | None
    fresh: bool = False  # parsed and digested in this refresh: no need to look at the files again
    text: tuple[str, str, str] | None = None  # (name, description, body) still to be written to the FTS table


_ROW_COLUMNS = "id, path, name, ident, deep, observed, entry, loadable, status, reason, expires, judged"
_NCOLS = 12


def folder_signature(folder: Path) -> str | None:
    """A hash of ``lstat`` of every entry under *folder* (``.git`` skipped, as the digest does).

    Equal signatures mean the digest need not be recomputed. None when the folder is or holds
    a symlink (the digest covers the link's target, wherever in the repo it is) or cannot be
    listed, so the caller always digests it (and the loader refuses what it must).
    """
    try:
        if os.path.islink(folder):
            return None
        parts: list[str] = []
        stack = [str(folder)]
        base = len(str(folder)) + 1
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode):
                        return None
                    if stat.S_ISDIR(st.st_mode):
                        if entry.name == ".git":
                            continue
                        stack.append(entry.path)
                    parts.append(f"{entry.path[base:]}\0{st.st_mode}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    except OSError:
        return None
    parts.sort()
    return hashlib.sha1("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def phrase(query: str) -> str:
    """*query* as one FTS5 phrase: the fallback when it is not valid FTS5 syntax."""
    return '"' + query.replace('"', '""') + '"'


class Index:
    """The search index of one repo, over an open state database (``skillctl.state.open_state``)."""

    def __init__(self, root: Path, db: Any) -> None:
        self.root = Path(root).resolve()
        self.conn: sqlite3.Connection = db.conn
        self._context: Any = None  # loader.LoadContext, built on the first judgement

    def _load_context(self) -> Any:
        """The repository's part of the loader contract (policy, look-alikes, signatures), once."""
        if self._context is None:
            from skillctl.loader import LoadContext

            self._context = LoadContext.for_repo(self.root, read_lock(self.root, missing_ok=False))
        return self._context

    # -- refresh -------------------------------------------------------------------------

    def refresh(self, now: datetime | None = None) -> RefreshStats:
        """Bring the index up to date with the folders and the lock; LockError if the lock is unusable."""
        now = as_utc(now) if now else utcnow()
        stats = RefreshStats()
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            meta = dict(conn.execute("SELECT key, value FROM search_meta").fetchall())
            if meta.get("version") != INDEX_VERSION:
                for table in ("search_docs", "search_fts", "search_dirs", "search_meta"):
                    conn.execute(f"DELETE FROM {table}")
                meta = {}
                stats.rebuilt = True
            self._refresh(meta, now, stats)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return stats

    def _refresh(self, meta: dict[str, str], now: datetime, stats: RefreshStats) -> None:
        conn = self.conn
        # Only (path, id, identity) of every row: full rows are read for what changed, or for all
        # of them when the lock or the set of folders changed.
        light = {path: (row_id, ident)
                 for path, row_id, ident in conn.execute("SELECT path, id, ident FROM search_docs")}
        found = self._walk()
        stats.skills = len(found)
        lock_ident = _lock_identity(self.root)
        assignment: dict[str, tuple[str | None, str | None]] | None = None
        parsed: dict[str, LockEntry] = {}
        rows: dict[str, _Row] = {}
        # a changed lock, trust policy or signer list can change any verdict (look-alike names
        # are judged across the whole lock): every row is judged again, from cached digests
        key_changed = lock_ident is None or lock_ident != meta.get("lock")
        if key_changed or found.keys() != light.keys():
            lock = read_lock(self.root, missing_ok=False)  # LockError: nothing is loadable, say so
            stats.lock_read = True
            from skillctl.loader import match_lock

            pairs, _ = match_lock(self.root, lock, [self._folder(rel) for rel in found])
            assignment = {}
            root = str(self.root)
            for lock_name, lock_entry, folder in pairs:
                if folder is not None and (rel := _rel(str(folder), root)) in found:
                    assignment[rel] = (lock_name, lock_entry.model_dump_json())
                    parsed[rel] = lock_entry
            rows = {r.path: r for r in (_Row(*t) for t in conn.execute(f"SELECT {_ROW_COLUMNS} FROM search_docs"))}
        for rel in light.keys() - found.keys():
            conn.execute("DELETE FROM search_fts WHERE rowid = ?", [light[rel][0]])
            conn.execute("DELETE FROM search_docs WHERE id = ?", [light[rel][0]])
            stats.removed += 1
        for rel, ident in found.items():
            known = light.get(rel)
            content_changed = known is None or ident is None or known[1] != ident
            if assignment is None and not content_changed:
                continue  # same SKILL.md, same lock: the stored verdict stands (queries re-check files)
            row = rows.get(rel) if assignment is not None else self._row(rel) if known else None
            if assignment is not None:
                name, entry = assignment.get(rel, (None, None))
            else:
                name, entry = (row.name if row and row.entry else None), (row.entry if row else None)
            entry_changed = (key_changed or row is None or row.entry != entry
                             or (entry is not None and row.name != name))
            if content_changed:
                row = self._reindex(rel, ident, row)
                stats.parsed += 1
            if content_changed or entry_changed:
                assert row is not None
                self._judge(row, name, entry, now, parsed.get(rel))
                stats.judged += 1
        conn.execute("INSERT OR REPLACE INTO search_meta VALUES ('version', ?)", [INDEX_VERSION])
        conn.execute("INSERT OR REPLACE INTO search_meta VALUES ('lock', ?)", [lock_ident])

    def _row(self, rel: str) -> _Row | None:
        got = self.conn.execute(f"SELECT {_ROW_COLUMNS} FROM search_docs WHERE path = ?", [rel]).fetchone()
        return _Row(*got) if got else None

    def _folder(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def _walk(self) -> dict[str, str | None]:
        """``repo.discover_skills`` with a directory-listing cache: {relative folder: SKILL.md identity}.

        Same rules (a folder holding SKILL.md is a skill and is not searched further, SKIP_DIRS
        skipped, symlinks never followed); a test holds the two equal on messy trees. Each
        candidate folder costs one ``lstat`` of its SKILL.md; only folders that are not skills
        are listed, and only when their own ``lstat`` (inode, mtime) changed. Plain strings, not
        Path objects: this loop runs once per skill on every refresh.
        """
        conn = self.conn
        root = str(self.root)
        is_skill, ident = _skill_md(root)
        if is_skill:
            return {"": ident}
        cache = {p: (i, s) for p, i, s in conn.execute("SELECT path, ident, subdirs FROM search_dirs")}
        found: dict[str, str | None] = {}
        seen_dirs: set[str] = set()
        stack = [""]
        while stack:
            rel = stack.pop()
            path = f"{root}/{rel}" if rel else root
            if rel:
                is_skill, ident = _skill_md(path)
                if is_skill:
                    found[rel] = ident
                    continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                continue
            dir_ident = f"{st.st_ino}:{st.st_mtime_ns}"
            hit = cache.get(rel)
            if hit is not None and hit[0] == dir_ident:
                subdirs = json.loads(hit[1])
            else:
                subdirs = _list_dir(path)
                conn.execute("INSERT OR REPLACE INTO search_dirs VALUES (?, ?, ?)",
                             [rel, dir_ident, json.dumps(subdirs)])
            seen_dirs.add(rel)
            stack.extend(f"{rel}/{d}" if rel else d for d in subdirs)
        for gone in cache.keys() - seen_dirs:
            conn.execute("DELETE FROM search_dirs WHERE path = ?", [gone])
        return found

    def _reindex(self, rel: str, ident: str | None, row: _Row | None) -> _Row:
        """Parse and digest one folder; replace its text. An unreadable skill keeps only its folder name."""
        from skillctl.loader import Observed
        from skillctl.parse import read_skill

        folder = self._folder(rel)
        deep = folder_signature(folder)
        observed: str | None = None
        try:
            # With an identity, SKILL.md is a regular file reached without any symlink (the walk
            # follows none), so read_skill's containment check could not fail; without one, it runs.
            skill = read_skill(folder, root=None if ident is not None else self.root)
            seen = Observed.from_skill(skill, skill_digest(folder))
            observed = _observed_json(seen, self.root)
            name, description, body = skill.name, skill.description, skill.body
        except InputError:
            name, description, body, ident, deep = folder.name, "", "", None, None
        if row is not None:
            self.conn.execute("DELETE FROM search_fts WHERE rowid = ?", [row.id])
        # written by _judge, once, with the verdict and its token in the FTS row (id 0: not stored yet)
        return _Row(row.id if row else 0, rel, name, ident, deep, observed, row.entry if row else None, 0, UNTRACKED,
                    "", None, None, fresh=True, text=(name, description, body))

    def _judge(self, row: _Row, name: str | None, entry: str | None, now: datetime,
               lock_entry: LockEntry | None = None) -> _Row:
        """Ask the loader about one row and store its verdict (and the lock entry it judged).

        *lock_entry* is *entry* already parsed, when the caller has it.
        """
        from skillctl.loader import NOT_IN_LOCK, LoadedSkill, judge

        expires: float | None = None
        if name is None or entry is None:
            loadable, status, reason, entry = 0, UNTRACKED, NOT_IN_LOCK, None
            name = self._folder(row.path).name  # as the loader names a folder no entry claims
        else:
            lock_entry = lock_entry or LockEntry.model_validate_json(entry)
            verdict = judge(self.root, name, lock_entry, self._folder(row.path), now, self._observer(row),
                            context=self._load_context())
            loadable = int(isinstance(verdict, LoadedSkill))
            status, reason = lock_entry.status, ("" if loadable else getattr(verdict, "reason", ""))
            expires = as_utc(lock_entry.expires_at).timestamp() if lock_entry.expires_at else None
        values = [row.path, name, row.text[1] if row.text else None, row.ident, row.deep, row.observed, entry,
                  loadable, status, reason, expires, now.timestamp()]
        if row.fresh and row.id == 0:
            cur = self.conn.execute("INSERT INTO search_docs (path, name, description, ident, deep, observed, entry, "
                                    "loadable, status, reason, expires, judged) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            row.id = int(cur.lastrowid or 0)
        elif row.fresh:
            self.conn.execute("UPDATE search_docs SET path = ?, name = ?, description = ?, ident = ?, deep = ?, "
                              "observed = ?, entry = ?, loadable = ?, status = ?, reason = ?, expires = ?, "
                              "judged = ? WHERE id = ?", [*values, row.id])
        else:
            self.conn.execute("UPDATE search_docs SET name = ?, entry = ?, loadable = ?, status = ?, reason = ?, "
                              "deep = ?, observed = ?, expires = ?, judged = ? WHERE id = ?",
                              [name, entry, loadable, status, reason, row.deep, row.observed, expires,
                               now.timestamp(), row.id])
        if row.text is not None:
            self.conn.execute("INSERT INTO search_fts (rowid, name, description, body) VALUES (?, ?, ?, ?)",
                              [row.id, *row.text])
            row.text = None
        row.name, row.entry, row.loadable, row.status, row.reason = name, entry, loadable, status, reason
        row.expires, row.judged = expires, now.timestamp()
        return row

    def _observer(self, row: _Row, deep: str | None = None) -> Callable[[Path, Path], Observed]:
        """The loader's ``observed`` callback: the cached digest while the folder signature holds.

        *deep* is a signature the caller took just now (so the folder is not listed twice).
        """
        from skillctl.loader import observe

        def observed(root: Path, folder: Path) -> Observed:
            if row.fresh and row.observed is not None:
                return _observed_from_json(row.observed, root)
            now_deep = deep if deep is not None else folder_signature(folder)
            if now_deep is not None and now_deep == row.deep and row.observed is not None:
                return _observed_from_json(row.observed, root)
            seen = observe(root, folder)  # InputError propagates: the loader reports "unreadable"
            row.deep, row.observed = now_deep, _observed_json(seen, root)
            return seen

        return observed

    # -- query ---------------------------------------------------------------------------

    def query(self, text: str, limit: int = 10, *, include_all: bool = False,
              now: datetime | None = None) -> list[Hit]:
        """Best matches first; only loadable skills unless *include_all*. Any text is a valid query."""
        text = " ".join(text[:MAX_QUERY_CHARS].split())
        if not text or limit <= 0:
            return []
        now = as_utc(now) if now else utcnow()
        try:
            return self._query(text, limit, include_all, now)
        except sqlite3.OperationalError as exc:
            if not _is_query_error(exc):
                raise
        try:
            return self._query(phrase(text), limit, include_all, now)
        except sqlite3.OperationalError as exc:
            if not _is_query_error(exc):
                raise
            return []

    def _query(self, match: str, limit: int, include_all: bool, now: datetime) -> list[Hit]:
        # Rank in FTS5 alone, then look the candidates up: ANDing the verdict token into the
        # match (or a join) makes every matching row pay (3 ms at 100,000 skills), while most
        # candidates are loadable anyway.
        ranked = (f"SELECT rowid, bm25(search_fts, {', '.join(map(str, WEIGHTS))}) AS score FROM search_fts "
                  "WHERE search_fts MATCH ? ORDER BY score LIMIT ? OFFSET ?")
        hits: list[Hit] = []
        offset, batch = 0, max(2 * limit, 20)
        while len(hits) < limit:
            got = self.conn.execute(ranked, [match, batch, offset]).fetchall()
            if not got:
                break
            marks = ", ".join("?" * len(got))
            where = "" if include_all else " AND loadable = 1"
            rows = {values[0]: (_Row(*values[:_NCOLS]), values[_NCOLS]) for values in self.conn.execute(
                f"SELECT {_ROW_COLUMNS}, description FROM search_docs WHERE id IN ({marks}){where}",
                [r[0] for r in got])}
            for row_id, score in got:
                if row_id not in rows:
                    continue
                row, description = rows[row_id]
                row = self._recheck(row, now)
                if row.loadable or include_all:
                    hits.append(Hit(row.name, description, row.path, row.status, bool(row.loadable), row.reason,
                                    -float(score)))
                    if len(hits) == limit:
                        break
            if batch < 0 or len(got) < batch:
                break
            # few loadable among the best matches: rank the rest once, not page by page (each
            # page would rank every match again)
            offset, batch = offset + batch, -1
        return hits

    def _recheck(self, row: _Row, now: datetime) -> _Row:
        """The loader's verdict now, for a row about to be shown.

        The stored verdict was the loader's for the same lock entry and the same files; it still
        holds while the folder's signature is unchanged and ``now`` is on the same side of the
        entry's expiry as when it was judged (expiry is the only clock the loader reads).
        Otherwise the loader judges again (digesting the folder if its files changed).
        """
        if row.entry is None:
            return row
        deep = folder_signature(self._folder(row.path))
        ts = now.timestamp()
        same_side = row.expires is None or (row.judged is not None
                                            and (row.expires <= row.judged) == (row.expires <= ts))
        if deep is not None and deep == row.deep and same_side:
            return row
        from skillctl.loader import LoadedSkill, judge

        before = (row.loadable, row.reason, row.deep)
        verdict = judge(self.root, row.name, LockEntry.model_validate_json(row.entry), self._folder(row.path), now,
                        self._observer(row, deep), context=self._load_context())
        row.loadable = int(isinstance(verdict, LoadedSkill))
        row.reason = "" if row.loadable else getattr(verdict, "reason", "")
        if (row.loadable, row.reason, row.deep) != before:
            # a busy database only means the next refresh stores the verdict
            with contextlib.suppress(sqlite3.OperationalError):
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    self.conn.execute("UPDATE search_docs SET loadable = ?, reason = ?, deep = ?, observed = ?, "
                                      "judged = ? WHERE id = ?",
                                      [row.loadable, row.reason, row.deep, row.observed, ts, row.id])
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
        return row


def _lock_identity(root: Path) -> str | None:
    """The lock's identity, and that of the files the loader's context is read from: a changed
    trust policy or signer list must re-judge every stored verdict just as a changed lock does."""
    parts: list[str | None] = []
    for name in (lock_path(root).name, "skillctl.yaml", "allowed_signers"):
        try:
            parts.append(stat_identity(os.lstat(Path(root) / name)))
        except OSError:
            parts.append("-")
    if None in parts or parts[0] == "-":  # a symlinked or missing file: read it every time
        return None
    return "|".join(p or "" for p in parts)


def _rel(path: str, root: str) -> str:
    """*path* relative to *root* ("" for root itself), as the walk names folders."""
    real = os.path.realpath(path)
    if real == root:
        return ""
    return real[len(root) + 1:] if real.startswith(root + os.sep) else path


def _skill_md(folder: str) -> tuple[bool, str | None]:
    """(folder holds a SKILL.md that is not a directory, its identity or None when not cacheable)."""
    path = f"{folder}/{SKILL_FILE}"
    try:
        st = os.lstat(path)
    except OSError:
        return False, None
    if stat.S_ISLNK(st.st_mode):
        return not os.path.isdir(path), None
    return not stat.S_ISDIR(st.st_mode), stat_identity(st)


def _list_dir(path: str) -> list[str]:
    """The sorted subdirectories to descend into (os.walk's, minus symlinks and SKIP_DIRS)."""
    try:
        with os.scandir(path) as entries:
            return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False) and e.name not in SKIP_DIRS)
    except OSError:
        return []


def _observed_json(seen: Any, root: Path) -> str:
    skill_md = Path(seen.skill_md)
    rel = skill_md.relative_to(root).as_posix() if skill_md.is_relative_to(root) else str(skill_md)
    return json.dumps([seen.name, seen.description, rel, seen.has_lifecycle, seen.version, seen.digest])


def _observed_from_json(text: str, root: Path) -> Any:
    from skillctl.loader import Observed

    name, description, rel, has_lifecycle, version, digest = json.loads(text)
    return Observed(name, description, root / rel, has_lifecycle, version, digest)


def _is_query_error(exc: sqlite3.OperationalError) -> bool:
    """FTS5 syntax errors (and unknown column filters), as opposed to a locked or broken database."""
    message = str(exc).lower()
    return message.startswith("fts5") or "syntax error" in message or "no such column" in message \
        or "unterminated" in message or "unknown special query" in message
