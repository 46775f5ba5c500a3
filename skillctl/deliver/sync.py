"""``sync``: make agent folders hold exactly the loadable skills, and nothing skillctl did not write.

Real agents read their own folders, so the loader's fail-closed verdict reaches them only if
someone copies it there. For each target, sync plans against the loader and the target's
manifest: **write** a loadable skill that is missing, **update** one whose verified digest
changed, **keep** what already matches, **remove** a folder it wrote whose skill stopped being
loadable, and report a **conflict** for anything it cannot prove is its own (a folder it did
not create, or one edited since it wrote it) — never touching it. ``--dry-run`` stops after the
plan.

Each skill is written into a temporary sibling and renamed into place (a copy verified
against the lock digest first, or a symlink with ``--link``), so an agent starting mid-sync
sees the old folder or the new one, never half of one. The manifest is saved before folders
change (with the digest each had before) and again after, so an interrupted run is finished by
the next one instead of leaving folders nobody owns.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from skillctl.deliver.manifest import (
    MANIFEST_NAME,
    Entry,
    Manifest,
    legacy_links,
    owned,
    read_manifest,
    safe_folder_name,
    stamp,
    written_matches,
)
from skillctl.deliver.targets import Target, double_reads, hermes_home
from skillctl.errors import InputError, SkillctlError
from skillctl.loader import LoadedSkill
from skillctl.lock import copied_target, copy_digests, leaves, skill_digest
from skillctl.repo import MAX_DISCOVERY_DEPTH, find_repo_root
from skillctl.safecopy import OVER_CAP, copy_tree, remove_tree
from skillctl.safeio import read_regular, walk

TMP_PREFIX = ".skillctl-tmp-"
OLD_PREFIX = ".skillctl-old-"
HERMES_SHOWN = 60
_WHEN = re.compile(r"\b(when|whenever|if|use (?:this |it )?(?:to|for|on|with|in)|used? for)\b", re.I)


@dataclass
class Action:
    kind: str  # write | update | keep | remove | conflict | error
    name: str
    path: Path
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"action": self.kind, "name": self.name, "path": str(self.path), "reason": self.reason}


@dataclass
class TargetResult:
    target: Target
    actions: list[Action] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target.label, "path": str(self.target.path), "error": self.error,
                "notes": self.notes, "actions": [a.to_json() for a in self.actions if a.kind != "keep"],
                "kept": self.count("keep")}


@dataclass
class SyncReport:
    dry_run: bool
    mode: str
    loadable: list[str] = field(default_factory=list)
    targets: list[TargetResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if any(t.error for t in self.targets):
            return 2
        if any(a.kind in ("conflict", "error") for t in self.targets for a in t.actions):
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "mode": self.mode, "loadable": self.loadable, "warnings": self.warnings,
                "targets": [t.to_json() for t in self.targets], "exit_code": self.exit_code}


def describes_when(description: str) -> bool:
    """Whether the part of *description* Hermes shows says when to use the skill."""
    return bool(_WHEN.search(description[:HERMES_SHOWN]))


def _fold(name: str) -> str:
    """Names that one filesystem or one reader could confuse (case, Unicode forms)."""
    return unicodedata.normalize("NFKC", name).casefold()


def desired_skills(loaded: list[LoadedSkill]) -> tuple[dict[str, LoadedSkill], list[Action], list[str]]:
    """Loadable skills by folder name; two skills claiming one folder both become conflicts."""
    groups: dict[str, list[LoadedSkill]] = {}
    refused: list[Action] = []
    for skill in loaded:
        if not safe_folder_name(skill.name):
            refused.append(Action("conflict", skill.name, Path(skill.name), "name is not a plain folder name"))
            continue
        groups.setdefault(_fold(skill.name), []).append(skill)
    want: dict[str, LoadedSkill] = {}
    warnings: list[str] = []
    for group in groups.values():
        if len(group) > 1:
            names = ", ".join(sorted(s.name for s in group))
            for s in group:
                refused.append(Action("conflict", s.name, Path(s.name),
                                      f"folder name claimed by several skills ({names}): none written"))
            continue
        want[group[0].name] = group[0]
    return want, refused, warnings


def description_warnings(want: dict[str, LoadedSkill]) -> list[str]:
    """Skills whose description, cut where Hermes cuts it, does not say when to use them."""
    warnings = []
    for skill in want.values():
        if not describes_when(skill.description):
            warnings.append(f"{skill.name}: the first {HERMES_SHOWN} characters of its description (all Hermes "
                            f"shows) do not say when to use it: {skill.description[:HERMES_SHOWN]!r}")
    return warnings


def check_target(path: Path, *, create: bool) -> str | None:
    """Why *path* cannot be a target (a file, a symlink elsewhere, unwritable), or None."""
    if path.is_symlink():
        return f"target is a symlink (to {os.readlink(path)}); refusing to write through it: name the real folder"
    if path.exists() and not path.is_dir():
        return "target exists and is not a directory"
    parent = path
    while not parent.exists() and not parent.is_symlink() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if path.exists() and not os.access(path, os.W_OK | os.X_OK):
        return "target is not writable"
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create target: {parent} is not writable"
    if not path.exists() and create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"cannot create target: {exc.strerror}"
    return None


def _sweep(path: Path) -> None:
    """Remove what an interrupted sync left (temporary siblings only skillctl names this way)."""
    with contextlib.suppress(OSError), os.scandir(path) as it:
        for entry in it:
            if entry.name.startswith((TMP_PREFIX, OLD_PREFIX)):
                _remove(Path(entry.path))


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def plan_target(target: Target, want: dict[str, LoadedSkill], mode: str, manifest: Manifest) -> list[Action]:
    actions: list[Action] = []
    for name, skill in sorted(want.items()):
        folder = target.path / name
        entry = manifest.entries.get(name)
        if not os.path.lexists(folder):
            actions.append(Action("write", name, folder, "loadable, not yet in this folder"))
        elif entry is None:
            actions.append(Action("conflict", name, folder, "a folder skillctl did not create has this name: "
                                                            "left untouched"))
        elif not owned(folder, entry) or (entry.digest == skill.digest and not written_matches(entry, skill.folder)):
            actions.append(Action("conflict", name, folder, "edited since skillctl wrote it: left in place "
                                                            "(remove it to let sync restore the verified copy)"))
        elif entry.prior is not None:  # recorded before an update that never finished
            actions.append(Action("update", name, folder, "finishing an interrupted sync"))
        elif legacy_links(folder, entry):
            actions.append(Action("update", name, folder, "copied again: a link leaving the skill folder now "
                                                          "becomes the file it points to"))
        elif entry.digest != skill.digest or entry.mode != mode or (mode == "link" and entry.source != str(
                skill.folder)):
            actions.append(Action("update", name, folder, "verified content changed" if entry.digest != skill.digest
                                  else f"switching to {mode}"))
        else:
            actions.append(Action("keep", name, folder))
    for name, entry in sorted(manifest.entries.items()):
        if name in want:
            continue
        folder = target.path / name
        if not folder.exists() and not folder.is_symlink():
            actions.append(Action("forget", name, folder, "already gone"))
        elif owned(folder, entry):
            actions.append(Action("remove", name, folder, "no longer loadable"))
        else:
            actions.append(Action("conflict", name, folder, "no longer loadable, but edited since skillctl wrote "
                                                            "it: not removed"))
    return actions


def _materialize(skill: LoadedSkill, dest: Path, mode: str, judged: str) -> str:
    """Write *skill* at the temporary *dest*: a symlink, or a copy of the bytes the loader judged.
    Returns the copy's own digest ("" for a link).

    A link inside the skill folder stays a link. One that leaves it (a script shared from
    elsewhere in the repo) would point somewhere else from the agent's folder, so the copy
    holds the file it points to instead (``lock.copy_digests``). *judged* is the source
    folder's stamp taken before the loader read it (its links' targets included). If the source
    still has that stamp after copying, the copy holds the verified bytes; if anything changed
    in between (an edit racing sync), or the stamp was too fresh to vouch, the source is
    digested again: it must still be the verified skill, and the copy what copying it gives.
    """
    if mode == "link":
        if (skill.folder / ".git").is_dir():  # the agent would read it through the link; no digest covers it
            raise InputError("the skill has a .git folder, which the digest does not cover and a link would hand "
                             "to the agent: sync it as a copy", path=skill.folder, code="SC065")
        os.symlink(str(skill.folder), dest)
        return ""
    try:
        copy_tree(str(skill.folder), str(dest), skip_dirs=frozenset({".git"}))  # as the digest: never verified
        if not _resolve_leaving_links(skill.folder, dest):
            # a plain copy, every link kept resolving inside it: the same bytes as the skill's
            written = skill.digest
            faithful = (bool(judged) and stamp(skill.folder) == judged) or skill_digest(dest, root=dest) == written
        else:
            # bytes were read through links, whose every hop no stamp covers: always checked against
            # a source state whose own digest is the verified one (each file read once for both)
            written = skill_digest(dest, root=dest)
            faithful = copy_digests(skill.folder) == (skill.digest, written)
        if not faithful:
            raise InputError("the skill changed while it was being copied; not written", path=skill.folder,
                             code="SC063")
    except BaseException:
        with contextlib.suppress(OSError):
            remove_tree(dest)
        raise
    return written


#: Bytes a copy may hold through links that leave the skill (each becomes a file of its own).
MAX_RESOLVED_BYTES = 64 << 20


def _resolve_leaving_links(source: Path, copy: Path) -> int:
    """In *copy* of *source*, replace each link that leaves the copy by the file it points to,
    mode bits kept; how many.

    Which links leave is decided on the copy as written, all before any is replaced (a link
    to a link that leaves, leaves too); the bytes are read where the source's link resolves, as
    the digest reads them, only inside the repository. Should the source have changed since
    it was copied, the two disagree and ``lock.copy_digests`` refuses the copy.
    """
    boundary = find_repo_root(source)
    leaving = [link for dirpath, _dirnames, filenames in walk(copy) for name in filenames
               if (link := Path(dirpath) / name).is_symlink() and leaves(link, copy)]
    written = 0
    for link in leaving:
        origin = source / link.relative_to(copy)
        outside = copied_target(origin, boundary)  # outside the repository: refused before anything is read
        st = os.stat(outside)
        written += st.st_size
        if written > MAX_RESOLVED_BYTES:  # many links to one big file would each become a full copy
            raise InputError(f"links leaving the skill would copy more than {MAX_RESOLVED_BYTES >> 20} MiB into "
                             "the agent's folder (sync it with --mode link)", path=origin, code=OVER_CAP)
        data, perms = read_regular(outside, MAX_RESOLVED_BYTES - written + st.st_size), st.st_mode & 0o777
        link.unlink()
        fd = os.open(link, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, perms)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return len(leaving)


def apply_target(target: Target, want: dict[str, LoadedSkill], mode: str, manifest: Manifest,
                 actions: list[Action], judged: dict[Path, str] | None = None, restamped: bool = False) -> None:
    """Carry out *actions*; *restamped*: planning recorded new stamps for folders it had to digest
    (``manifest.owned``), saved even when nothing else changes, so the next run need not digest."""
    changes = [a for a in actions if a.kind in ("write", "update", "remove", "forget")]
    if not changes:
        if restamped:
            manifest.save()
        return
    # First save: new digests recorded with the old ones as "prior", so a crash part-way
    # leaves every folder recognisable as ours on the next run.
    for a in changes:
        if a.kind in ("write", "update"):
            skill = want[a.name]
            old = manifest.entries.get(a.name)
            manifest.entries[a.name] = Entry(skill.digest, mode, str(skill.folder),
                                             prior=old.digest if old else None, stamp="")
    manifest.save()
    for a in changes:
        final = target.path / a.name
        try:
            if a.kind == "forget":
                manifest.entries.pop(a.name, None)
            elif a.kind == "remove":
                aside = target.path / f"{OLD_PREFIX}{uuid.uuid4().hex[:8]}-{a.name}"
                os.rename(final, aside)
                _remove(aside)
                manifest.entries.pop(a.name, None)
            else:
                skill = want[a.name]
                tmp = target.path / f"{TMP_PREFIX}{uuid.uuid4().hex[:8]}-{a.name}"
                written = _materialize(skill, tmp, mode, (judged or {}).get(skill.folder, ""))
                if a.kind == "update":
                    aside = target.path / f"{OLD_PREFIX}{uuid.uuid4().hex[:8]}-{a.name}"
                    os.rename(final, aside)
                    os.rename(tmp, final)
                    _remove(aside)
                else:
                    os.rename(tmp, final)
                entry = manifest.entries[a.name]
                entry.prior = None
                entry.stamp = stamp(final)
                entry.written = written
        except (OSError, SkillctlError) as exc:
            a.kind, a.reason = "error", f"{a.kind} failed: {getattr(exc, 'strerror', None) or exc}"
    manifest.save()


def _listed_elsewhere(target: Target, want: dict[str, LoadedSkill], project: Path) -> list[str]:
    """Skills this target gets that an agent reading it also finds in another of its roots:
    no agent merges duplicates, so it would list the skill twice (or an unverified one too)."""
    from skillctl.deliver.targets import agent_roots

    notes = []
    here = target.path.absolute()
    for agent in target.agents:
        for root in agent_roots(agent, project):
            if root.absolute() == here or not root.is_dir():
                continue
            for name in sorted(want):
                if (root / name / "SKILL.md").is_file():
                    notes.append(f"{name}: {agent} also reads {root / name}, so it would list this skill twice")
    return notes


def _hermes_local_names() -> set[str]:
    """Folder names under ``$HERMES_HOME/skills``: Hermes drops an external skill with one of these."""
    root = hermes_home() / "skills"
    names: set[str] = set()
    if root.is_dir():
        for dirpath, dirnames, filenames in walk(root, strict=False, max_depth=MAX_DISCOVERY_DEPTH):
            if "SKILL.md" in filenames:
                names.add(Path(dirpath).name)
                dirnames[:] = []
    return names


VERDICT_CACHE = "sync-verdicts.json"


def _fingerprint(repo: Path, signers: str | None) -> str:
    """What the loader's verdicts depend on besides the skills' own files: lock, config,
    version, and with ``require_signed`` the ``allowed_signers`` file at *signers* (a key
    removed from it revokes every verdict it signed)."""
    import hashlib

    from skillctl import __version__
    from skillctl.config import CONFIG_NAME
    from skillctl.lock import lock_path

    h = hashlib.sha256(__version__.encode())
    for path in (lock_path(repo), repo / CONFIG_NAME, *([Path(signers)] if signers else [])):
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def _signers_path(repo: Path) -> str | None:
    """The ``allowed_signers`` file the loader checks signatures against, or None when it checks none.

    The config is part of the fingerprint, so the path read here holds while the fingerprint does.
    """
    from skillctl.config import load_config
    from skillctl.errors import SkillctlError
    from skillctl.signing import allowed_signers_path

    try:
        config = load_config(repo)
    except SkillctlError:
        return None  # the loader reports the broken config; nothing is cached without a verdict
    return str(allowed_signers_path(repo, config)) if config.require_signed else None


def loadable_now(repo: Path, now: datetime | None = None) -> tuple[list[LoadedSkill], dict[Path, str]]:
    """The loader's verdict, reused from the last sync when nothing it depends on changed.

    The loader reads and hashes every skill; a sync where nothing changed should not. The
    verdict is reused only if the lock, the config, the signer list and skillctl's version are
    byte-identical and every loadable skill's folder has the same ``stamp`` as when it was
    judged (inode, size, mode, mtime and ctime of each entry, and of what its links point to).
    Expiry is always checked against *now*. Anything else, including a missing or unreadable
    cache, asks the loader. Returns the loadable skills and each one's folder stamp as it was
    when judged.
    """
    import json

    from skillctl.clock import as_utc, utcnow
    from skillctl.lock import atomic_write

    repo = Path(repo).resolve()
    now = as_utc(now) if now else utcnow()
    cache = repo / ".skillctl" / VERDICT_CACHE
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        signers = data.get("signers")
        if data.get("key") == _fingerprint(repo, signers if isinstance(signers, str) else None):
            hits = [LoadedSkill(name=e["name"], description=e["description"], location=Path(e["location"]),
                                folder=Path(e["folder"]), version=e["version"],
                                expires_at=datetime.fromisoformat(e["expires_at"]), digest=e["digest"])
                    for e in data["skills"] if stamp(Path(e["folder"])) == e["stamp"]]
            if len(hits) == len(data["skills"]):
                stamps = {Path(e["folder"]): e["stamp"] for e in data["skills"]}
                return [s for s in hits if s.expires_at > now], stamps
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    signers = _signers_path(repo)
    key = _fingerprint(repo, signers)  # before the loader reads anything, like the stamps
    from skillctl.deliver.verdicts import loaded_skills
    from skillctl.repo import discover_skills

    # Stamps taken *before* the loader reads the files: an edit racing the loader changes the
    # stamp, so the next sync asks the loader again instead of trusting a verdict on old bytes.
    folders = discover_skills(repo)
    before = {f.resolve(): stamp(f) for f in folders}
    loaded = loaded_skills(repo, folders, now)  # explain_load's verdicts, on every core
    entries = [{"name": s.name, "description": s.description, "location": str(s.location), "folder": str(s.folder),
                "version": s.version, "expires_at": s.expires_at.isoformat(), "digest": s.digest,
                "stamp": before.get(s.folder, "")} for s in loaded]
    stamps = {s.folder: before.get(s.folder, "") for s in loaded}
    if any(not e["stamp"] for e in entries):
        return loaded, stamps
    with contextlib.suppress(OSError):
        cache.parent.mkdir(exist_ok=True)
        atomic_write(cache, json.dumps({"key": key, "signers": signers, "skills": entries}))
    return loaded, stamps


def run_sync(repo: Path, targets: list[Target], *, mode: str = "copy", dry_run: bool = False,
             now: datetime | None = None, project: Path | None = None) -> SyncReport:
    """Plan (and unless *dry_run*, apply) sync of *repo*'s loadable skills into *targets*."""
    if mode not in ("copy", "link"):
        raise InputError(f"unknown sync mode {mode!r} (copy or link)", code="SC060")
    if not targets:
        raise InputError("no sync targets: name one (claude, codex, hermes, ...), pass --target DIR, or list "
                         "them under sync.targets in skillctl.yaml", code="SC060")
    project = (project or Path.cwd()).resolve()
    clashes = double_reads(targets, project)
    if clashes:
        raise InputError("; ".join(clashes), code="SC061")
    loaded, judged = loadable_now(repo, now)
    want, refused, warnings = desired_skills(loaded)
    if any("hermes" in t.agents for t in targets):
        warnings += description_warnings(want)
    report = SyncReport(dry_run=dry_run, mode=mode, loadable=sorted(want), warnings=warnings)
    seen: set[Path] = set()
    for target in targets:
        result = TargetResult(target)
        report.targets.append(result)
        key = target.path.absolute()
        if key in seen:
            result.error = "named twice"
            continue
        seen.add(key)
        result.error = check_target(target.path, create=not dry_run)
        if result.error:
            continue
        try:
            manifest = read_manifest(target.path) if target.path.exists() else Manifest(target.path / MANIFEST_NAME)
        except InputError as exc:
            result.error = str(exc)
            continue
        result.notes.extend(manifest.problems)
        if target.hermes_external:
            local = _hermes_local_names()
            result.notes.extend(f"{n}: Hermes prefers its own {hermes_home() / 'skills'} copy of this name and "
                                "drops the managed one" for n in sorted(set(want) & local))
        stamps = {name: e.stamp for name, e in manifest.entries.items()}
        result.actions = [*refused, *plan_target(target, want, mode, manifest)] if target.path.exists() else [
            *refused, *[Action("write", n, target.path / n, "loadable, not yet in this folder") for n in sorted(want)]]
        result.notes.extend(_listed_elsewhere(target, want, project))
        if dry_run:
            if target.hermes_external:
                from skillctl.deliver.hermes import register_external_dir

                with contextlib.suppress(InputError):
                    if register_external_dir(hermes_home() / "config.yaml", target.path, dry_run=True):
                        result.notes.append(f"would register {target.path} in skills.external_dirs")
            continue
        _sweep(target.path)
        apply_target(target, want, mode, manifest, result.actions, judged,
                     restamped=any(e.stamp != stamps.get(name) for name, e in manifest.entries.items()))
        if target.hermes_external:
            from skillctl.deliver.hermes import register_external_dir

            try:
                if register_external_dir(hermes_home() / "config.yaml", target.path):
                    result.notes.append(f"registered {target.path} in skills.external_dirs of "
                                        f"{hermes_home() / 'config.yaml'}")
            except InputError as exc:
                result.error = str(exc)
    return report


def sync_configured(repo: Path, *, now: datetime | None = None, project: Path | None = None) -> SyncReport | None:
    """Sync into the targets ``skillctl.yaml`` lists (None when it lists none): the scheduler's
    last step. Relative project-scope targets are taken from the repo's own folder."""
    from skillctl.config import load_config
    from skillctl.deliver.targets import targets_from_config

    config = load_config(repo)
    project = project or Path(repo)
    targets = targets_from_config(config.sync, project=project, where=config.path)
    if not targets:
        return None
    return run_sync(repo, targets, mode=config.sync.mode, now=now, project=project)
