"""Ranking FTS5 matches in bounded time, however many skills a query matches.

FTS5's bm25 costs about a microsecond per matching row, and it ranks every match before the
first result comes out: a word found in most of 100,000 skills takes 70 ms. So a query is
first probed for its size (rowids only, which costs little):

* up to ``MAX_RANKED`` matches: every match is ranked by bm25 (name 10, description 4,
  body 1): the exact order;
* more: the query is so broad that its words say little, and it is ranked tier by tier,
  name matches first, then name or description, then anywhere. A tier of at most
  ``MAX_RANKED`` matches is ranked whole by bm25; a larger one ``MAX_RANKED`` matches at a
  time in index order (each window a sample of the tier, ranked; the next one only if the
  caller wants more results). A skill appears once, in its first tier. Name and description
  carry 14 of bm25's 15 weight, so this is nearly the order full ranking would give (99.5%
  of the same top-10 results over the benchmark's queries), at a bounded cost.

The caller names the FTS table: ``search_ok`` holds only skills whose stored verdict is
loadable (so the default search never ranks refused skills at all), ``search_fts`` every one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

MAX_RANKED = 3000
# bm25 column weights: a word in the name counts most, then the description (what agents are
# shown to decide), then the body. ``search_fts`` has a fourth column (``gate``, from
# migration 004) that is always empty and weighs nothing.
WEIGHTS = (10.0, 4.0, 1.0)
TABLES = {"search_ok": WEIGHTS, "search_fts": (*WEIGHTS, 0.0)}


def phrase(query: str) -> str:
    """*query* as one FTS5 phrase: the fallback when it is not valid FTS5 syntax."""
    return '"' + query.replace('"', '""') + '"'


def is_query_error(exc: sqlite3.OperationalError) -> bool:
    """FTS5 syntax errors (and unknown column filters), as opposed to a locked or broken database."""
    message = str(exc).lower()
    return message.startswith("fts5") or "syntax error" in message or "no such column" in message \
        or "unterminated" in message or "unknown special query" in message


def ranked(conn: sqlite3.Connection, table: str, match: str, page: int) -> Iterator[tuple[int, float]]:
    """(rowid, bm25 score: lower is better) of every row of *table* matching *match*, best first.

    Pulled lazily, *page* rows per statement at first; an FTS5 syntax error in *match* is
    raised by the first ``next()``. Each row comes once.
    """
    probe = _rowids(conn, table, match)
    if len(probe) <= MAX_RANKED:
        yield from _windows(conn, table, match, probe, page)
        return
    seen: set[int] = set()
    for tier in _tiers(match):
        try:
            rowids = _rowids(conn, table, tier)
        except sqlite3.OperationalError:
            continue  # a column filter of the user's own that the tier's wrapper cannot hold
        for rowid, score in _windows(conn, table, tier, rowids, page):
            if rowid not in seen:
                seen.add(rowid)
                yield rowid, score
    for rowid, score in _windows(conn, table, match, probe, page):
        if rowid not in seen:  # the body-only matches, and all of them if no tier could be expressed
            seen.add(rowid)
            yield rowid, score


def _tiers(match: str) -> list[str]:
    """The query restricted to the name, then to name or description.

    The whole query is ANDed in: it keeps a NOT meaning what the user meant (a filtered NOT
    could match rows the whole query excludes), and its words keep their rarity across every
    column in bm25 (a word rare in names but everywhere in bodies does not outrank a rare one).
    """
    return [f"({match}) AND ({{name}} : ({match}))", f"({match}) AND ({{name description}} : ({match}))"]


def _rowids(conn: sqlite3.Connection, table: str, match: str, after: int | None = None) -> list[int]:
    """The next ``MAX_RANKED + 1`` matching rowids after *after*, ascending: iterating is cheap, ranking not."""
    where, args = (f"{table} MATCH ?", [match]) if after is None else (f"{table} MATCH ? AND rowid > ?", [match, after])
    return [r[0] for r in conn.execute(f"SELECT rowid FROM {table} WHERE {where} LIMIT ?", [*args, MAX_RANKED + 1])]


def _windows(conn: sqlite3.Connection, table: str, match: str, rowids: list[int],
             page: int) -> Iterator[tuple[int, float]]:
    """The matches ranked ``MAX_RANKED`` at a time in rowid order, starting from the first *rowids*:
    all at once when that is all of them, else the first window, and the next only if pulled."""
    low: int | None = None
    while rowids:
        high = rowids[MAX_RANKED - 1] if len(rowids) > MAX_RANKED else None
        yield from _pages(conn, table, match, low, high, page)
        if high is None:
            return
        low, rowids = high, _rowids(conn, table, match, high)


def _pages(conn: sqlite3.Connection, table: str, match: str, low: int | None, high: int | None,
           page: int) -> Iterator[tuple[int, float]]:
    """Ranked rows with ``low < rowid <= high``: the first *page*, then (if the caller wants
    more) all the rest at once, since every statement ranks every row in range again."""
    bm25 = f"bm25({table}, {', '.join(map(str, TABLES[table]))})"
    where, args = f"{table} MATCH ?", list[object]([match])
    if low is not None:
        where, args = f"{where} AND rowid > ?", [*args, low]
    if high is not None:
        where, args = f"{where} AND rowid <= ?", [*args, high]
    sql = f"SELECT rowid, {bm25} AS score FROM {table} WHERE {where} ORDER BY score LIMIT ? OFFSET ?"
    first = conn.execute(sql, [*args, page, 0]).fetchall()
    yield from first
    if len(first) == page:
        yield from conn.execute(sql, [*args, -1, page]).fetchall()
