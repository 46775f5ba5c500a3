"""``skillctl.search``: find skills by meaning words, loadable ones only unless asked otherwise.

One call refreshes the index (cheap when little changed; see ``skillctl.deliver.index``) and
queries it, so a caller never sees a verdict older than its own call. A missing or corrupt
``skills.lock`` raises LockError, as the loader does: nothing is offered as loadable.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from skillctl.deliver.index import Hit, Index


def search(repo: Path | str, query: str, limit: int = 10, *, include_all: bool = False,
           now: datetime | None = None) -> list[Hit]:
    """The best *limit* matches for *query* in the skills repo at *repo*, best first."""
    from skillctl.state import open_state

    root = Path(repo).resolve()
    db = open_state(root)
    try:
        index = Index(root, db)
        index.refresh(now)
        return index.query(query, limit, include_all=include_all, now=now)
    finally:
        db.conn.close()
