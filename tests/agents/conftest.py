"""Real agents for end-to-end tests: installed once into .cache/agents (see install.py).

A test that needs an agent gets it from the ``agent`` factory; when the agent cannot be had
(npm absent, no registry reachable) the test is skipped with the reason, so a run without
them says what it did not test instead of passing silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import NoReturn

import pytest

from tests.agents import install


@pytest.fixture(scope="session")
def agent() -> Callable[[str], install.Agent]:
    def unavailable(reason: str) -> NoReturn:
        if os.environ.get("SKILLCTL_REQUIRE_AGENTS"):  # CI: a real-agent test that cannot run fails
            pytest.fail(f"real agent required (SKILLCTL_REQUIRE_AGENTS) but {reason}")
        pytest.skip(f"real-agent test skipped: {reason}")

    def get(name: str) -> install.Agent:
        found = install.cached(name)
        if found is not None:
            return found
        if name in ("claude", "codex") and shutil.which("npm") is None:
            unavailable(f"npm is not installed, so {name} cannot be installed")
        try:
            return install.ensure(name)
        except install.Unavailable as exc:
            unavailable(f"{name} unavailable: {exc}")

    return get
