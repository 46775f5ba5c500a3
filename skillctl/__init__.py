"""skillctl: a lifecycle manager that keeps agent skills honest.

The package is a library first; ``skillctl.cli`` is a thin click layer over it. Heavy
dependencies (gitpython, openai, sqlite-utils, rich, httpx) are imported lazily inside the
functions that need them so that ``skillctl --version`` and ``skillctl validate`` start fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_skills"]


def load_skills(repo, **kwargs):  # type: ignore[no-untyped-def]
    """Return the skills an agent may load from *repo* (fail-closed; see ``skillctl.loader``)."""
    from skillctl.loader import load_skills as _load

    return _load(repo, **kwargs)
