"""skillctl: a lifecycle manager that keeps agent skills honest.

The package is a library first; ``skillctl.cli`` is a thin click layer over it. Heavy
dependencies (gitpython, openai, sqlite-utils, rich, httpx) are imported lazily inside the
functions that need them so that ``skillctl --version`` and ``skillctl validate`` start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skillctl.deliver.index import Hit
    from skillctl.loader import LoadedSkill

__version__ = "0.1.0"

__all__ = ["__version__", "load_skills", "main", "search"]


def main() -> None:
    """Console entry point. Ctrl-C while the CLI is still importing exits quietly with 130.

    ``skillctl.cli.main`` maps interrupts once it runs, but importing click, yaml and the
    command modules takes tens of milliseconds during which a Ctrl-C would otherwise print
    a traceback.
    """
    import signal
    import sys

    def interrupted(signum: int, frame: object) -> None:
        sys.stderr.write("skillctl: interrupted\n")
        sys.exit(130)

    previous = signal.signal(signal.SIGINT, interrupted)
    from skillctl.cli import main as cli_main

    signal.signal(signal.SIGINT, previous)
    cli_main()


def load_skills(repo: str | Path, **kwargs: Any) -> list[LoadedSkill]:
    """Return the skills an agent may load from *repo* (fail-closed; see ``skillctl.loader``)."""
    from skillctl.loader import load_skills as _load

    return _load(Path(repo), **kwargs)


def search(repo: str | Path, query: str, limit: int = 10, **kwargs: Any) -> list[Hit]:
    """Skills of *repo* matching *query*, best first; only loadable ones unless ``include_all=True``.

    See ``skillctl.deliver.search``: the index is refreshed on each call, and the loader's
    fail-closed contract decides what counts as loadable.
    """
    from skillctl.deliver.search import search as _search

    return _search(repo, query, limit, **kwargs)
