"""Where each agent reads skills, and the named sync targets that write there.

These are facts observed by running the released agents (the README's delivery section lists them):
Claude Code lists `.claude/skills/NAME/` by folder name, Codex CLI walks `.agents/skills` from
the working folder up to the git root plus `~/.agents/skills` and `$CODEX_HOME/skills`, Hermes
reads `$HERMES_HOME/skills` at any depth plus `skills.external_dirs`, OpenClaw reads its
workspace, `~/.openclaw/skills` and `~/.agents/skills`. Both ``sync`` (never place a skill in
two roots one agent reads) and ``agents`` (what would each agent load now) need the same
table, so it lives here once.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillctl.errors import ConfigError, InputError

if TYPE_CHECKING:
    from skillctl.config import SyncConfig


@dataclass(frozen=True)
class NamedTarget:
    """A target name users type, the folders it means in each scope, and who reads them."""

    name: str
    project: str | None  # relative to the project folder; None: the agent has no project folder
    user: str  # "~" is HOME, "$HERMES_HOME" is Hermes' home
    agents: tuple[str, ...]


NAMED_TARGETS: dict[str, NamedTarget] = {t.name: t for t in (
    NamedTarget("claude", ".claude/skills", "~/.claude/skills", ("claude",)),
    NamedTarget("agents", ".agents/skills", "~/.agents/skills", ("codex", "openclaw")),
    NamedTarget("cursor", ".cursor/skills", "~/.cursor/skills", ("cursor",)),
    NamedTarget("copilot", ".github/skills", "~/.copilot/skills", ("copilot",)),
    NamedTarget("hermes", None, "$HERMES_HOME/skills", ("hermes",)),
    NamedTarget("openclaw", "skills", "~/.openclaw/skills", ("openclaw",)),
)}
ALIASES = {"codex": "agents", "claude-code": "claude"}


@dataclass(frozen=True)
class AgentSpec:
    """How to recognise an installed agent and which folders it reads skills from."""

    name: str
    binaries: tuple[str, ...]
    homes: tuple[str, ...]  # any of these existing means "installed"
    by_folder_name: bool  # lists the folder name (Claude Code) instead of the name: field
    recursive: bool  # skills found at any depth below a root (Codex, Hermes)


AGENTS: dict[str, AgentSpec] = {a.name: a for a in (
    AgentSpec("claude", ("claude",), ("~/.claude",), True, False),
    AgentSpec("codex", ("codex",), ("$CODEX_HOME",), False, True),
    AgentSpec("hermes", ("hermes",), ("$HERMES_HOME",), False, True),
    AgentSpec("openclaw", ("openclaw",), ("~/.openclaw",), False, False),
    AgentSpec("cursor", ("cursor", "cursor-agent"), ("~/.cursor",), False, False),
    AgentSpec("copilot", ("copilot",), ("~/.copilot",), False, False),
)}


def home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def hermes_home() -> Path:
    return Path(os.environ.get("HERMES_HOME") or home() / ".hermes")


def codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or home() / ".codex")


def expand(spec: str) -> Path:
    """``~`` and ``$HERMES_HOME``/``$CODEX_HOME`` with the agents' own defaults."""
    if spec.startswith("$HERMES_HOME"):
        return hermes_home() / spec[len("$HERMES_HOME/"):] if spec != "$HERMES_HOME" else hermes_home()
    if spec.startswith("$CODEX_HOME"):
        return codex_home() / spec[len("$CODEX_HOME/"):] if spec != "$CODEX_HOME" else codex_home()
    if spec == "~" or spec.startswith("~/"):
        return home() / spec[2:]
    return Path(spec)


@dataclass(frozen=True)
class Target:
    """One folder sync writes into, with the label users see and the agents that read it."""

    label: str
    path: Path
    agents: tuple[str, ...] = ()
    hermes_external: bool = False


def resolve_named(name: str, *, scope: str, project: Path) -> Target:
    """The folder a named target means in *scope* (``project`` or ``global``)."""
    key = ALIASES.get(name, name)
    if key not in NAMED_TARGETS:
        raise InputError(f"unknown target {name!r} (one of {', '.join([*NAMED_TARGETS, *ALIASES])}, "
                         "or --target DIR)", code="SC060")
    spec = NAMED_TARGETS[key]
    if scope == "global" or spec.project is None:
        return Target(f"{key} (user)", expand(spec.user), spec.agents)
    return Target(f"{key} (project)", project / spec.project, spec.agents)


def hermes_managed_dir() -> Path:
    """The folder skillctl owns and registers in Hermes' ``skills.external_dirs``.

    Outside ``$HERMES_HOME/skills`` on purpose: Hermes reads that tree at any depth, so a
    managed folder inside it would list every skill twice.
    """
    return hermes_home() / "skillctl-skills"


def targets_from_config(sync: SyncConfig, *, project: Path, where: Path | None) -> list[Target]:
    """``sync.targets`` from skillctl.yaml as folders. Relative paths are relative to the config
    file, so a committed config means the same folders on every clone."""
    base = where.parent if where else project
    out: list[Target] = []
    for i, item in enumerate(sync.targets):
        if item.path is not None:
            path = Path(os.path.expanduser(item.path))
            out.append(Target(item.path, Path(os.path.normpath(path if path.is_absolute() else base / path))))
            continue
        name = ALIASES.get(str(item.name), str(item.name))
        if item.external and name == "hermes":
            out.append(Target("hermes (external_dirs)", hermes_managed_dir(), ("hermes",), hermes_external=True))
            continue
        try:
            out.append(resolve_named(name, scope=item.scope, project=project))
        except InputError as exc:
            raise ConfigError(f"sync.targets[{i}].name: {exc.message}", path=where, code="SC012") from None
    return out


def git_root(start: Path) -> Path | None:
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def agent_roots(agent: str, project: Path) -> list[Path]:
    """Every folder *agent* reads skills from when started in *project*, in its own order."""
    project = project.resolve() if project.exists() else project
    if agent == "claude":
        return [project / ".claude/skills", home() / ".claude/skills"]
    if agent == "codex":
        top = git_root(project) or project
        ups = [p / ".agents/skills" for p in (project, *project.parents) if p == top or top in p.parents]
        return [*ups, project / ".codex/skills", home() / ".agents/skills", codex_home() / "skills"]
    if agent == "hermes":
        return [hermes_home() / "skills", *hermes_external_dirs()]
    if agent == "openclaw":
        ws = home() / ".openclaw/workspace"
        return [ws / "skills", ws / ".agents/skills", home() / ".openclaw/skills", home() / ".agents/skills"]
    if agent == "cursor":
        return [project / ".cursor/skills", home() / ".cursor/skills"]
    if agent == "copilot":
        return [project / ".github/skills", home() / ".copilot/skills"]
    return []


def hermes_external_dirs() -> list[Path]:
    """``skills.external_dirs`` from Hermes' config.yaml (unreadable config: none)."""
    from skillctl.deliver.hermes import read_external_dirs

    try:
        return read_external_dirs(hermes_home() / "config.yaml")
    except InputError:
        return []


def installed_agents() -> list[str]:
    """Agents found on this machine by their binary on PATH or their home folder."""
    found = []
    for spec in AGENTS.values():
        if any(shutil.which(b) for b in spec.binaries) or any(expand(h).is_dir() for h in spec.homes):
            found.append(spec.name)
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def double_reads(targets: list[Target], project: Path) -> list[str]:
    """Pairs of targets one agent reads both of: syncing both would list each skill twice."""
    problems = []
    for agent in AGENTS:
        roots = agent_roots(agent, project)
        hit = [t for t in targets if any(_same(t.path, r) for r in roots)]
        for a, b in itertools.pairwise(hit):
            if not _same(a.path, b.path):
                problems.append(f"{agent} reads both {a.path} and {b.path}: each skill would be listed twice")
    return problems


def walk_skill_folders(root: Path, *, recursive: bool = True, skip: frozenset[str] = frozenset(),
                       broken_links: bool = False) -> list[Path]:
    """Skill folders below *root* the way agents find them: symlinked folders followed (all four
    agents do), never descending into a skill, nor through a symlinked folder that is not one.

    *broken_links* also counts a folder whose SKILL.md is a dangling link (import reports it;
    an agent could not read it). *recursive* False looks one level down only (Claude Code).
    """
    from skillctl.repo import SKILL_FILE, SKIP_DIRS

    found: list[Path] = []
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name in SKIP_DIRS or entry.name in skip or not entry.is_dir(follow_symlinks=True):
                continue
            path = Path(entry.path)
            if (path / SKILL_FILE).is_file() or (broken_links and (path / SKILL_FILE).is_symlink()):
                found.append(path)
            elif recursive and not entry.is_symlink():
                stack.append(path)
    return sorted(found)
