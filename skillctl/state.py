"""``.skillctl/state.db``: derived local state (registry cache, and more as others add tables).

The database is rebuilt from nothing whenever it is missing or unreadable, so it never needs
backing up and a corrupt file is deleted, not repaired. Its schema upgrades itself on open:
``MIGRATIONS`` is an append-only list of functions, each applied once, in order, and recorded
in ``_migrations`` by name. To add a table, append a function; never edit or reorder one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATE_DIR = ".skillctl"
STATE_DB = "state.db"


def _m001_registry_cache(db: Any) -> None:
    db["registry_cache"].create(
        {"key": str, "datasource": str, "package": str, "base_url": str, "fetched_at": str,
         "outcome": str, "body": str},
        pk="key", if_not_exists=True,
    )


def _m002_skill_facts(db: Any) -> None:
    db["skill_facts"].create({"path": str, "identity": str, "facts": str}, pk="path", if_not_exists=True)


def _m003_outcomes(db: Any) -> None:
    """How skills fared when agents used them (``skillctl.synth.outcomes``).

    ``event`` identifies an outcome found in a session (so ingesting a session twice counts it
    once); manual records leave it NULL, which SQLite's UNIQUE never treats as a duplicate.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS outcomes ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, skill TEXT NOT NULL, outcome TEXT NOT NULL,"
        " note TEXT, source TEXT NOT NULL, session TEXT, at TEXT NOT NULL, event TEXT UNIQUE)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS outcomes_skill_at ON outcomes (skill, at)")


def _m004_search_index(db: Any) -> None:
    """The search index (skillctl.deliver.index): one row per skill folder, its FTS5 text, the walk cache."""
    db.execute("CREATE TABLE IF NOT EXISTS search_docs (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, "
               "name TEXT NOT NULL, description TEXT NOT NULL, ident TEXT, deep TEXT, observed TEXT, "
               "entry TEXT, loadable INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, expires REAL, "
               "judged REAL)")
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(name, description, body, gate, "
               "tokenize = 'porter unicode61 remove_diacritics 2')")
    db.execute("CREATE TABLE IF NOT EXISTS search_dirs (path TEXT PRIMARY KEY, ident TEXT NOT NULL, "
               "subdirs TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT)")


def _m005_outcome_digest(db: Any) -> None:
    """The skill content an outcome was recorded against, so a fixed skill starts a fresh record."""
    db.execute("ALTER TABLE outcomes ADD COLUMN digest TEXT")


def _m006_search_offered(db: Any) -> None:
    """The text of the skills whose stored verdict is loadable (skillctl.deliver.index): a default
    search ranks only these. Contentless: the text itself stays in ``search_fts``."""
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS search_ok USING fts5(name, description, body, content = '', "
               "tokenize = 'porter unicode61 remove_diacritics 2')")


MIGRATIONS: list[Callable[[Any], None]] = [
    _m001_registry_cache,
    _m002_skill_facts,
    _m003_outcomes,
    _m004_search_index,
    _m005_outcome_digest,
    _m006_search_offered,
]


def state_path(root: Path) -> Path:
    return Path(root) / STATE_DIR / STATE_DB


def open_state(root: Path) -> Any:
    """Open (creating, migrating, or rebuilding if corrupt) the repo's state database."""
    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path)
    except sqlite3.DatabaseError:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return _open(path)


def _open(path: Path) -> Any:
    import sqlite_utils

    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA quick_check").fetchone()
        db = sqlite_utils.Database(conn)
        migrate(db)
    except BaseException:
        conn.close()
        raise
    return db


def migrate(db: Any) -> list[str]:
    """Apply pending migrations in one write transaction (concurrent openers wait, then skip)."""
    applied: list[str] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
        for fn in MIGRATIONS:
            if fn.__name__ not in done:
                fn(db)
                db.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", [fn.__name__])
                applied.append(fn.__name__)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return applied
