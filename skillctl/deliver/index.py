"""The search index: every skill folder's text in SQLite FTS5, kept current incrementally.

The index lives in ``.skillctl/state.db`` (tables of migrations ``_m004_search_index`` and
``_m006_search_offered``) and is derived: a missing or corrupt database is rebuilt by
``skillctl.state``, and an index written by an older ``INDEX_VERSION`` is emptied and rebuilt
here. Nothing in it is trusted for loading.

Keeping it current must cost far less than reading every skill, so a refresh reads only what
changed, the way git's index does:

* discovery reuses each directory's listing while its ``lstat`` (inode, mtime) is unchanged,
  and a known skill folder costs one ``lstat`` of its SKILL.md (``repo.stat_identity``, the
  same file identity the rot audit's fact cache keys on);
* a SKILL.md whose identity changed is parsed again, its folder digested
  (``lock.skill_digest``) and the text re-indexed (``folders``: in worker processes when
  there are many, while ``skills.lock`` is parsed);
* ``skills.lock`` is parsed only when its own identity changed, and only skills whose lock
  entry changed are judged again; it is parsed once per refresh, for the pairing and for the
  loader's context alike.
* every change is written with one ``executemany`` per statement, in the refresh's one
  transaction.

Loadability is always the loader's decision (``loader.judge``). The index stores the last
verdict so a query can pick candidates (``search_ok`` holds the text of the rows stored as
loadable, so a default search ranks nothing else; see ``ranking``), then asks the loader
again for every row it returns. That second judgement needs the folder's digest, which is
reused only while a signature of ``lstat`` over every file in the folder is unchanged: a
script edited behind SKILL.md's back changes the signature, so the digest is recomputed and
the skill is refused (fail closed), and the refusal is stored (the row leaves ``search_ok``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillctl.clock import as_utc, utcnow
from skillctl.deliver.folders import (
    Reading,
    folder_readings,
    folder_signature,
    observed_from_json,
    observed_json,
    walk_skills,
)
from skillctl.deliver.ranking import is_query_error, phrase
from skillctl.lock import lock_path, read_lock
from skillctl.lockmodel import LockEntry
from skillctl.repo import stat_identity

if TYPE_CHECKING:
    from skillctl.loader import Observed

INDEX_VERSION = "5"
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
    offered: int | None = None  # the stored verdict before this refresh (so: in search_ok); None: ``loadable``

    def __post_init__(self) -> None:
        if self.offered is None:
            self.offered = self.loadable


@dataclass
class _Writes:
    """A refresh's changes, written with one ``executemany`` per statement when it ends."""

    next_id: int
    docs_insert: list[list[Any]] = field(default_factory=list)
    docs_update: list[list[Any]] = field(default_factory=list)
    verdicts: list[list[Any]] = field(default_factory=list)
    fts_delete: list[list[int]] = field(default_factory=list)
    fts_insert: list[list[Any]] = field(default_factory=list)
    unoffer: list[list[int]] = field(default_factory=list)  # rows that may leave search_ok
    offer: list[list[int]] = field(default_factory=list)  # rows that may enter it
    offer_text: list[list[Any]] = field(default_factory=list)  # rows entering it with the text just read

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany(_UNOFFER, self.unoffer)  # before the text they were offered with is replaced
        conn.executemany("DELETE FROM search_fts WHERE rowid = ?", self.fts_delete)
        conn.executemany("UPDATE search_docs SET path = ?, name = ?, description = ?, ident = ?, deep = ?, "
                         "observed = ?, entry = ?, loadable = ?, status = ?, reason = ?, expires = ?, judged = ? "
                         "WHERE id = ?", self.docs_update)
        conn.executemany("UPDATE search_docs SET name = ?, entry = ?, loadable = ?, status = ?, reason = ?, "
                         "deep = ?, observed = ?, expires = ?, judged = ? WHERE id = ?", self.verdicts)
        conn.executemany("INSERT INTO search_docs (path, name, description, ident, deep, observed, entry, loadable, "
                         "status, reason, expires, judged, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         self.docs_insert)
        conn.executemany("INSERT INTO search_fts (rowid, name, description, body) VALUES (?, ?, ?, ?)",
                         self.fts_insert)
        conn.executemany(_OFFER, self.offer)
        # the text in hand, judged loadable in this refresh: 3x faster than reading it back
        conn.executemany("INSERT INTO search_ok (rowid, name, description, body) VALUES (?, ?, ?, ?)", self.offer_text)


# ``search_ok`` (migration 006) is a contentless FTS5 table holding the text of exactly the rows
# whose stored verdict is loadable, so a default search ranks only those. Contentless rows are
# removed by repeating the text they were added with, which ``search_fts`` (same rowid) keeps;
# both statements test the stored verdict themselves, so membership always equals
# ``loadable = 1`` whoever calls them: un-offer before a row's verdict or text changes, offer after.
# (A refresh adds a row it just read and judged loadable with the same text it writes to
# ``search_fts`` in the same flush, after un-offering its old text.)
_UNOFFER = ("INSERT INTO search_ok (search_ok, rowid, name, description, body) "
            "SELECT 'delete', f.rowid, f.name, f.description, f.body FROM search_fts f "
            "JOIN search_docs d ON d.id = f.rowid WHERE f.rowid = ? AND d.loadable = 1")
_OFFER = ("INSERT INTO search_ok (rowid, name, description, body) "
          "SELECT f.rowid, f.name, f.description, f.body FROM search_fts f "
          "JOIN search_docs d ON d.id = f.rowid WHERE f.rowid = ? AND d.loadable = 1")


_ROW_COLUMNS = "id, path, name, ident, deep, observed, entry, loadable, status, reason, expires, judged"
_NCOLS = 12


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
                conn.execute("INSERT INTO search_ok (search_ok) VALUES ('delete-all')")
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
        found = walk_skills(self.conn, self.root)
        stats.skills = len(found)
        changed = [(rel, ident) for rel, ident in found.items()
                   if (known := light.get(rel)) is None or ident is None or known[1] != ident]
        # The folders are read (in worker processes when there are many) while the lock is parsed here.
        with folder_readings(self.root, changed) as readings:
            self._apply(meta, now, stats, light, found, readings)

    def _apply(self, meta: dict[str, str], now: datetime, stats: RefreshStats,
               light: dict[str, tuple[int, str | None]], found: dict[str, str | None],
               readings: Iterator[Reading]) -> None:
        conn = self.conn
        signers = meta.get("signers") or DEFAULT_SIGNERS
        lock_ident = _lock_identity(self.root, signers)
        assignment: dict[str, tuple[str | None, str | None]] | None = None
        parsed: dict[str, LockEntry] = {}
        rows: dict[str, _Row] = {}
        # a changed lock, trust policy or signer list can change any verdict (look-alike names
        # are judged across the whole lock): every row is judged again, from cached digests
        key_changed = lock_ident is None or lock_ident != meta.get("lock")
        if key_changed or found.keys() != light.keys():
            lock = read_lock(self.root, missing_ok=False)  # LockError: nothing is loadable, say so
            stats.lock_read = True
            from skillctl.loader import LoadContext, match_lock

            self._context = LoadContext.for_repo(self.root, lock)  # the lock just read, not read again
            now_signers = _signers(self._context)
            if now_signers != signers:  # the config names another signer list: watch that one from now on
                conn.execute("INSERT OR REPLACE INTO search_meta VALUES ('signers', ?)", [now_signers])
                lock_ident = None  # taken on the old list: the next refresh judges again with the new one
            pairs, _ = match_lock(self.root, lock, [self._folder(rel) for rel in found], walked=True)
            assignment = {}
            root = str(self.root)
            for lock_name, lock_entry, folder in pairs:
                if folder is None:
                    continue
                # a path the walk reached has no symlink in it: its own real path
                rel = str(folder)[len(root) + 1:] if str(folder).startswith(root + os.sep) else None
                if rel not in found:
                    rel = _rel(str(folder), root)
                if rel in found:
                    assignment[rel] = (lock_name, lock_entry.model_dump_json())
                    parsed[rel] = lock_entry
            rows = {r.path: r for r in (_Row(*t) for t in conn.execute(f"SELECT {_ROW_COLUMNS} FROM search_docs"))}
        gone = [light[rel][0] for rel in light.keys() - found.keys()]
        conn.executemany(_UNOFFER, [[i] for i in gone])
        conn.executemany("DELETE FROM search_fts WHERE rowid = ?", [[i] for i in gone])
        conn.executemany("DELETE FROM search_docs WHERE id = ?", [[i] for i in gone])
        stats.removed = len(gone)
        writes = _Writes((conn.execute("SELECT max(id) FROM search_docs").fetchone()[0] or 0) + 1)
        retry = self._refused_by_files(found) if assignment is None else set()
        for rel, ident in found.items():
            known = light.get(rel)
            content_changed = known is None or ident is None or known[1] != ident
            if assignment is None and not content_changed and rel not in retry:
                continue  # same SKILL.md, same lock: the stored verdict stands (queries re-check files)
            row = rows.get(rel) if assignment is not None else self._row(rel) if known else None
            if assignment is not None:
                name, entry = assignment.get(rel, (None, None))
            else:
                name, entry = (row.name if row and row.entry else None), (row.entry if row else None)
            entry_changed = (key_changed or row is None or row.entry != entry or rel in retry
                             or (entry is not None and row.name != name))
            if content_changed:
                row = self._reindex(next(readings), row, writes)
                stats.parsed += 1
            if content_changed or entry_changed:
                assert row is not None
                self._judge(row, name, entry, now, writes, parsed.get(rel))
                stats.judged += 1
        writes.flush(conn)
        conn.execute("INSERT OR REPLACE INTO search_meta VALUES ('version', ?)", [INDEX_VERSION])
        conn.execute("INSERT OR REPLACE INTO search_meta VALUES ('lock', ?)", [lock_ident])

    def _refused_by_files(self, found: dict[str, str | None]) -> set[str]:
        """Rows the lock calls active but stored as refused, whose folder changed since: judged again.

        A query refuses (and stores) a skill whose files changed behind SKILL.md; when they are
        put back (``git checkout``), SKILL.md's identity may not change, and without this the
        skill would stay out of search until the lock changed. Usually none: a healthy repo's
        active skills are loadable.
        """
        retry = set()
        for path, deep in self.conn.execute("SELECT path, deep FROM search_docs "
                                            "WHERE loadable = 0 AND status = 'active' AND entry IS NOT NULL"):
            if path in found:
                now_deep = folder_signature(self._folder(path))
                if now_deep is None or now_deep != deep:
                    retry.add(path)
        return retry

    def _row(self, rel: str) -> _Row | None:
        got = self.conn.execute(f"SELECT {_ROW_COLUMNS} FROM search_docs WHERE path = ?", [rel]).fetchone()
        return _Row(*got) if got else None

    def _folder(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def _reindex(self, reading: Reading, row: _Row | None, writes: _Writes) -> _Row:
        """A folder's new text and observation (``read_folder``): its FTS row is replaced when judged."""
        rel, name, description, body, ident, deep, observed = reading
        if row is not None:
            writes.fts_delete.append([row.id])
        return _Row(row.id if row else 0, rel, name, ident, deep, observed, row.entry if row else None, 0, UNTRACKED,
                    "", None, None, fresh=True, text=(name, description, body), offered=row.loadable if row else 0)

    def _judge(self, row: _Row, name: str | None, entry: str | None, now: datetime, writes: _Writes,
               lock_entry: LockEntry | None = None) -> _Row:
        """Ask the loader about one row and queue its verdict (and the lock entry it judged) for writing.

        *lock_entry* is *entry* already parsed, when the caller has it.
        """
        from skillctl.loader import NOT_IN_LOCK, LoadedSkill, judge

        expires: float | None = None
        if name is None or entry is None:
            loadable, status, reason, entry = 0, UNTRACKED, NOT_IN_LOCK, None
            # as the loader names a folder no entry claims (its last path part; string work, once per skill)
            name = row.path.rsplit("/", 1)[-1] if row.path else self.root.name
        else:
            lock_entry = lock_entry or LockEntry.model_validate_json(entry)
            verdict = judge(self.root, name, lock_entry, self._folder(row.path), now, self._observer(row),
                            context=self._load_context())
            loadable = int(isinstance(verdict, LoadedSkill))
            status, reason = lock_entry.status, ("" if loadable else getattr(verdict, "reason", ""))
            expires = as_utc(lock_entry.expires_at).timestamp() if lock_entry.expires_at else None
        judged = now.timestamp()
        if row.fresh:
            new = row.id == 0
            if new:
                row.id = writes.new_id()
            values = [row.path, name, row.text[1] if row.text else None, row.ident, row.deep, row.observed, entry,
                      loadable, status, reason, expires, judged, row.id]
            (writes.docs_insert if new else writes.docs_update).append(values)
        else:
            writes.verdicts.append([name, entry, loadable, status, reason, row.deep, row.observed, expires, judged,
                                    row.id])
        new_text = row.text is not None
        if row.offered and (new_text or not loadable):
            writes.unoffer.append([row.id])
        if loadable and row.text is not None:
            writes.offer_text.append([row.id, *row.text])
        elif loadable and not row.offered:
            writes.offer.append([row.id])
        if row.text is not None:
            writes.fts_insert.append([row.id, *row.text])
            row.text = None
        row.name, row.entry, row.loadable, row.status, row.reason = name, entry, loadable, status, reason
        row.expires, row.judged = expires, judged
        return row

    def _observer(self, row: _Row, deep: str | None = None) -> Callable[[Path, Path], Observed]:
        """The loader's ``observed`` callback: the cached digest while the folder signature holds.

        *deep* is a signature the caller took just now (so the folder is not listed twice).
        """
        from skillctl.loader import observe

        def observed(root: Path, folder: Path) -> Observed:
            if row.fresh and row.observed is not None:
                return observed_from_json(row.observed, root)
            now_deep = deep if deep is not None else folder_signature(folder)
            if now_deep is not None and now_deep == row.deep and row.observed is not None:
                return observed_from_json(row.observed, root)
            seen = observe(root, folder)  # InputError propagates: the loader reports "unreadable"
            row.deep, row.observed = now_deep, observed_json(seen, root)
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
            if not is_query_error(exc):
                raise
        try:
            return self._query(phrase(text), limit, include_all, now)
        except sqlite3.OperationalError as exc:
            if not is_query_error(exc):
                raise
            return []

    def _query(self, match: str, limit: int, include_all: bool, now: datetime) -> list[Hit]:
        """Rank (``ranking.ranked``), then ask the loader again about each row about to be shown.

        A default search ranks ``search_ok``, the rows whose stored verdict is loadable, and
        keeps a row only if that verdict is still the loader's now (``_recheck``); ``--all``
        ranks every row. Rows are looked up a page at a time, and more are ranked only when
        rows of the page are refused now.
        """
        from skillctl.deliver.ranking import ranked

        table = "search_fts" if include_all else "search_ok"
        page = limit if include_all else limit + 2  # a spare row or two for one refused on re-check
        where = "" if include_all else " AND loadable = 1"  # the stored verdict, not only its copy in search_ok
        candidates = ranked(self.conn, table, match, page)
        hits: list[Hit] = []
        while len(hits) < limit:
            got = list(itertools.islice(candidates, page))
            if not got:
                break
            marks = ", ".join("?" * len(got))
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
                    self.conn.execute(_UNOFFER, [row.id])
                    self.conn.execute("UPDATE search_docs SET loadable = ?, reason = ?, deep = ?, observed = ?, "
                                      "judged = ? WHERE id = ?",
                                      [row.loadable, row.reason, row.deep, row.observed, ts, row.id])
                    self.conn.execute(_OFFER, [row.id])
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
        return row


DEFAULT_SIGNERS = "allowed_signers"


def _signers(context: Any) -> str:
    """The signer list *context* checks signatures against (the default name when it checks none)."""
    return str(context.signatures.allowed_signers) if context.signatures is not None else DEFAULT_SIGNERS


def _lock_identity(root: Path, signers: str = DEFAULT_SIGNERS) -> str | None:
    """The lock's identity, and that of the files the loader's context is read from: a changed
    trust policy or signer list must re-judge every stored verdict just as a changed lock does.
    *signers* is the signer list the config named when the lock was last read (any path)."""
    parts: list[str | None] = []
    for name in (lock_path(root).name, "skillctl.yaml", signers):
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
