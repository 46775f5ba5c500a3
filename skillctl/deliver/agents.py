"""The agent check-up: what each agent on this machine would load right now, and from where.

``sync`` keeps the folders it manages honest, but an agent also loads whatever else sits in
the folders it reads: skills a user copied in by hand, ones an agent wrote itself, a managed
copy someone edited, a skill demoted since the last sync, the same skill twice because two
roots hold it. This module walks every root each detected agent reads (the same table ``sync``
uses) and classifies each skill it finds:

- ``loadable``: written by skillctl, unchanged, and the loader would load it now;
- ``demoted``: written by skillctl, but no longer loadable (sync has not run since);
- ``outdated``: written by skillctl from an older verified version;
- ``edited``: written by skillctl, changed since (its digest no longer matches);
- ``unmanaged``: not written by skillctl, so never verified (or a copy of a repo skill);
- and ``duplicated`` on top, when the agent lists the same name more than once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillctl.deliver.manifest import MANIFEST_NAME, Manifest, owned, read_manifest, written_matches
from skillctl.deliver.targets import AGENTS, agent_roots, installed_agents, walk_skill_folders
from skillctl.errors import InputError, SkillctlError
from skillctl.lock import skill_digest

if TYPE_CHECKING:
    from skillctl.loader import LoadedSkill

HERMES_SKIP = frozenset({".hub", ".archive", ".curator_backups"})


@dataclass
class SeenSkill:
    name: str  # what the agent lists it as
    path: str
    root: str
    state: str
    detail: str = ""
    duplicated: bool = False

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class AgentView:
    agent: str
    roots: list[dict[str, Any]] = field(default_factory=list)
    skills: list[SeenSkill] = field(default_factory=list)

    @property
    def unverified(self) -> list[SeenSkill]:
        return [s for s in self.skills if s.state != "loadable" or s.duplicated]

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "roots": self.roots, "skills": [s.to_json() for s in self.skills]}


@dataclass
class Checkup:
    repo: str | None
    agents: list[AgentView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if any(a.unverified for a in self.agents) else 0

    def to_json(self) -> dict[str, Any]:
        return {"repo": self.repo, "notes": self.notes, "agents": [a.to_json() for a in self.agents],
                "exit_code": self.exit_code}


def _listed_name(agent: str, folder: Path) -> tuple[str, str]:
    """The name the agent shows, and a note when the agent would refuse or rename it."""
    from skillctl.parse import read_skill

    if AGENTS[agent].by_folder_name:
        return folder.name, ""
    try:
        skill = read_skill(folder)
    except InputError as exc:
        note = "Codex refuses it (no YAML frontmatter)" if agent == "codex" and exc.code in ("SK010", "SK011") \
            else f"unreadable: {exc.code}"
        return folder.name, note
    return skill.name, ""


def check_agents(repo: Path | None, *, project: Path, agents: list[str] | None = None,
                 now: datetime | None = None) -> Checkup:
    """Walk every root each agent reads and classify what it would load now."""
    from skillctl.loader import explain_load

    report = Checkup(repo=str(repo) if repo else None)
    loadable: dict[str, LoadedSkill] = {}
    rejected: dict[str, str] = {}
    by_digest: dict[str, str] = {}
    if repo is not None:
        try:
            load = explain_load(repo, now)
            loadable = {s.name: s for s in load.loaded}
            rejected = {r.name: r.reason for r in load.rejected}
            from skillctl.lock import read_lock

            by_digest = {e.digest: f"{n} ({e.status})" for n, e in read_lock(repo).skills.items() if e.digest}
        except SkillctlError as exc:
            report.notes.append(f"no verdicts available, every skill counts as unverified: {exc}")
    for agent in agents or installed_agents():
        view = AgentView(agent)
        report.agents.append(view)
        spec = AGENTS[agent]
        seen_roots: set[Path] = set()
        for root in agent_roots(agent, project):
            real = root.resolve() if root.exists() else root
            if real in seen_roots:
                continue
            seen_roots.add(real)
            info: dict[str, Any] = {"path": str(root), "exists": root.is_dir(), "managed": False}
            view.roots.append(info)
            if not root.is_dir():
                continue
            manifest: Manifest | None = None
            if (root / MANIFEST_NAME).exists():
                try:
                    manifest = read_manifest(root)
                    info["managed"] = True
                except InputError as exc:
                    info["error"] = str(exc)
            skip = HERMES_SKIP if agent == "hermes" else frozenset()
            for folder in walk_skill_folders(root, recursive=spec.recursive, skip=skip):
                name, note = _listed_name(agent, folder)
                view.skills.append(_classify(name, folder, root, manifest, loadable, rejected, by_digest, note))
        counts: dict[str, int] = {}
        for s in view.skills:
            if not s.detail.startswith("Codex refuses"):
                counts[s.name] = counts.get(s.name, 0) + 1
        for s in view.skills:
            if counts.get(s.name, 0) > 1:
                s.duplicated = True
    return report


def _classify(name: str, folder: Path, root: Path, manifest: Manifest | None, loadable: dict[str, LoadedSkill],
              rejected: dict[str, str], by_digest: dict[str, str], note: str) -> SeenSkill:
    seen = SeenSkill(name=name, path=str(folder), root=str(root), state="unmanaged")
    entry = manifest.entries.get(folder.name) if manifest and folder.parent == root else None
    skill = loadable.get(folder.name)
    if entry is None:
        try:
            digest = skill_digest(folder)
        except InputError:
            digest = ""
        copy_of = by_digest.get(digest)
        seen.detail = f"not written by skillctl; same content as {copy_of}" if copy_of else \
            "not written by skillctl: never verified"
    elif not owned(folder, entry) or (skill is not None and skill.digest == entry.digest and (
            not written_matches(entry, skill.folder) or (entry.mode == "link" and entry.source != str(skill.folder)))):
        # the manifest sits beside the copies: a copy digest or a link source it records is
        # held against the verified skill, never taken on its word
        seen.state, seen.detail = "edited", "changed since skillctl wrote it: what the agent loads was never verified"
    elif entry.prior is not None:  # owned() also accepts the version an unfinished update replaces
        seen.state, seen.detail = "outdated", "an update skillctl began did not finish: run skillctl sync"
    elif skill is not None and skill.digest == entry.digest:
        seen.state, seen.detail = "loadable", "managed, verified and unchanged"
    elif skill is not None:
        seen.state, seen.detail = "outdated", "managed copy of an older verified version: run skillctl sync"
    else:
        why = rejected.get(folder.name, "not in this repo's lock")
        seen.state, seen.detail = "demoted", f"no longer loadable ({why}): run skillctl sync"
    if note:
        seen.detail = f"{note}; {seen.detail}"
    return seen
