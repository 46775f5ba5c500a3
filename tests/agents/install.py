"""Install the real agents (Claude Code, Codex CLI, Hermes Agent) into a cache inside the checkout.

End-to-end tests must see what a released agent actually sends to a model, so they run the
published packages, not imitations. Installing takes a minute or two, so the result lives in
``.cache/agents/`` (gitignored) and is reused while the pinned versions stay the same; CI runs
this once per run (``.ci/run``), tests call :func:`ensure` which only checks the stamp.

Run directly: ``python tests/agents/install.py`` prints one ``name=path`` line per agent.
Versions are pinned (override with SKILLCTL_CLAUDE_VERSION, SKILLCTL_CODEX_VERSION,
SKILLCTL_HERMES_VERSION) so a run is reproducible and reports what it tested.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SKILLCTL_AGENTS_CACHE", ROOT / ".cache" / "agents"))

VERSIONS = {
    "claude": os.environ.get("SKILLCTL_CLAUDE_VERSION", "2.1.197"),
    "codex": os.environ.get("SKILLCTL_CODEX_VERSION", "0.171.0"),
    "hermes": os.environ.get("SKILLCTL_HERMES_VERSION", "0.19.0"),
}


@dataclass(frozen=True)
class Agent:
    name: str
    version: str
    binary: Path


class Unavailable(Exception):
    """The agent cannot be installed here (no npm, no network): tests skip with this reason."""


def _stamp(name: str) -> Path:
    return CACHE / f"{name}.json"


def _read_stamp(name: str) -> Agent | None:
    try:
        data = json.loads(_stamp(name).read_text())
    except (OSError, ValueError):
        return None
    binary = Path(data.get("binary", ""))
    if data.get("version") != VERSIONS[name] or not binary.is_file():
        return None
    return Agent(name, data["version"], binary)


def _write_stamp(agent: Agent) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = _stamp(agent.name).with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": agent.version, "binary": str(agent.binary)}))
    tmp.replace(_stamp(agent.name))


def _run(cmd: list[str], timeout: float) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{cmd[0]} failed: {exc}") from exc
    if proc.returncode != 0:
        raise Unavailable(f"{' '.join(cmd[:3])} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")


def _npm_agent(name: str, package: str, bin_name: str) -> Agent:
    found = _read_stamp(name)
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("npm is not installed: the real-agent tests need it")
    prefix = CACHE / "npm" / name
    prefix.mkdir(parents=True, exist_ok=True)
    _run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(prefix),
          f"{package}@{VERSIONS[name]}"], timeout=600)
    binary = prefix / "node_modules" / ".bin" / bin_name
    if not binary.exists():
        raise Unavailable(f"{package} installed no {bin_name} binary")
    agent = Agent(name, VERSIONS[name], binary)
    _write_stamp(agent)
    return agent


def _hermes() -> Agent:
    found = _read_stamp("hermes")
    if found:
        return found
    env_dir = CACHE / "hermes-venv"
    if not (env_dir / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    _run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          f"hermes-agent=={VERSIONS['hermes']}"], timeout=900)
    binary = env_dir / "bin" / "hermes"
    if not binary.exists():
        raise Unavailable("hermes-agent installed no hermes binary")
    agent = Agent("hermes", VERSIONS["hermes"], binary)
    _write_stamp(agent)
    return agent


INSTALLERS = {
    "claude": lambda: _npm_agent("claude", "@anthropic-ai/claude-code", "claude"),
    "codex": lambda: _npm_agent("codex", "@openai/codex", "codex"),
    "hermes": _hermes,
}


def ensure(name: str) -> Agent:
    """The installed agent, installing it first if the cache does not hold the pinned version."""
    return INSTALLERS[name]()


def cached(name: str) -> Agent | None:
    """The agent if already installed (tests use this so they never install on their own)."""
    return _read_stamp(name)


def main(argv: list[str]) -> int:
    names = argv or list(INSTALLERS)
    status = 0
    for name in names:
        try:
            agent = ensure(name)
        except Unavailable as exc:
            print(f"{name}: unavailable: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{name}={agent.binary} ({agent.version})")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
