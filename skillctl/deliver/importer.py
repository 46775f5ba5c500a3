"""``import``: bring skills that already live in agent folders under management, as drafts.

People arrive with skills: a Hermes home full of agent-written and hub-installed skills, a
project's ``.claude/skills``, a ClawHub/OpenClaw workspace, a ``skills-lock.json`` project
from Vercel's ``skills`` CLI. Import copies each skill folder into the repo byte for byte
(``--annotate`` is the only thing that edits a file, adding ``metadata.skillctl``), records a
``draft`` lock entry with ``origin: imported``, the trust tier the *source* earns
(``source_tier``, which ``policy.effective_tier`` reads) and where it came from, and scans it
on the way in (a blocking finding makes it ``quarantined``). It loads nothing until ``verify``
passes it. The source may change while it is imported (an agent still writing it, or a hostile
folder racing the import), so the copy follows no link and what is scanned, digested and
recorded is the copy in the repo, not the source.

Real-world folders are messy: a skill without frontmatter, a symlink leaving the skill, a
huge or unreadable file, two skills claiming one name. Each is reported for that skill and
the rest of the import goes on; only an unusable SOURCE or repo stops it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from skillctl.clock import utcnow
from skillctl.deliver.manifest import MANIFEST_NAME, safe_folder_name
from skillctl.deliver.targets import walk_skill_folders
from skillctl.errors import InputError
from skillctl.lockmodel import Tier
from skillctl.repo import SKILL_FILE
from skillctl.safeio import walk
from skillctl.vocab import TRUST_TIERS, Status

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_SKILL_BYTES = 64 * 1024 * 1024
MAX_FILES = 2000
# Hermes keeps hub caches, archives and backups beside the skills: never skills of their own.
HERMES_SKIP = frozenset({".hub", ".archive", ".curator_backups"})


@dataclass
class Found:
    """One skill folder in the source, with what the source says about where it came from."""

    folder: Path
    tier: Tier
    source: str
    category: str = ""


@dataclass
class Imported:
    name: str
    source_path: str
    outcome: str  # imported | would-import | quarantined | skipped
    reason: str = ""
    tier: str = ""
    dest: str = ""
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class ImportReport:
    source: str
    kind: str
    applied: bool
    skills: list[Imported] = field(default_factory=list)
    commit: str | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for s in self.skills if s.outcome == outcome)

    @property
    def exit_code(self) -> int:
        return 1 if any(s.outcome in ("skipped", "quarantined") for s in self.skills) else 0

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "kind": self.kind, "applied": self.applied, "commit": self.commit,
                "skills": [s.to_json() for s in self.skills]}


# -- what kind of source is this ------------------------------------------------------------------

def _read_json(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read(4 * 1024 * 1024).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _walk_skills(root: Path, skip: frozenset[str] = frozenset()) -> list[Path]:
    """Skill folders below *root* (any depth), dangling SKILL.md links included so they are
    reported; *root* itself when it is one skill."""
    if (root / SKILL_FILE).is_file():
        return [root]
    return walk_skill_folders(root, skip=skip | {MANIFEST_NAME}, broken_links=True)


def discover(source: Path, tier_override: Tier | None = None) -> tuple[str, list[Found]]:
    """The source's kind and its skills, each with the tier and provenance the source gives it."""
    def tier(default: Tier) -> Tier:
        return tier_override or default

    clawhub = _read_json(source / ".clawhub" / "lock.json")
    if clawhub is not None or any(p.is_file() for p in source.glob("*/_meta.json")):
        # ClawHub: community uploads, thousands of them, some malicious. Nothing above community.
        skills_dir = source / "skills" if (source / "skills").is_dir() else source
        locked = clawhub.get("skills", {}) if isinstance(clawhub, dict) else {}
        out = []
        for folder in _walk_skills(skills_dir):
            meta = _read_json(folder / "_meta.json")
            slug = meta.get("slug") if isinstance(meta, dict) else None
            version = (meta or {}).get("version") if isinstance(meta, dict) else None
            if version is None and isinstance(locked, dict) and isinstance(locked.get(folder.name), dict):
                version = locked[folder.name].get("version")
            label = f"clawhub:{slug or folder.name}" + (f"@{version}" if version else "")
            out.append(Found(folder, tier("community"), label))
        return "clawhub", out
    skills_lock = _read_json(source / "skills-lock.json")
    if isinstance(skills_lock, dict) and isinstance(skills_lock.get("skills"), dict):
        entries = skills_lock["skills"]
        base = source / ".agents" / "skills"
        out = []
        for folder in _walk_skills(base) if base.is_dir() else []:
            entry = entries.get(folder.name) if isinstance(entries.get(folder.name), dict) else {}
            origin = str(entry.get("source") or "unknown")
            out.append(Found(folder, tier("community"), f"skills-lock:{origin}"))
        return "skills-lock", out
    hub = source / ".hub" / "lock.json"
    if hub.is_file() or (source / ".bundled_manifest").is_file() or _has_hermes_metadata(source):
        installed = (_read_json(hub) or {}).get("installed", {}) if hub.is_file() else {}
        installed = installed if isinstance(installed, dict) else {}
        bundled = _bundled_names(source / ".bundled_manifest")
        out = []
        for folder in _walk_skills(source, HERMES_SKIP):
            category = folder.parent.relative_to(source).as_posix() if folder.parent != source else ""
            if folder.name in installed and isinstance(installed[folder.name], dict):
                hub_entry = installed[folder.name]
                label = f"hermes-hub:{hub_entry.get('source', '?')}:{hub_entry.get('identifier', folder.name)}"
                out.append(Found(folder, tier("community"), label, category))
            elif folder.name in bundled:
                out.append(Found(folder, tier("community"), "hermes-bundled", category))
            else:
                # Neither from the hub nor shipped with Hermes: most likely written by the agent.
                out.append(Found(folder, tier("synthesized"), "hermes-local", category))
        return "hermes", out
    name = source.name
    kind = {"skills": "agent-folder"}.get(name, "folder")
    if source.parent.name in (".claude", ".agents", ".codex", ".cursor", ".github"):
        kind = f"{source.parent.name}/skills"
    return kind, [Found(f, tier("community"), f"{kind}:{f.name}") for f in _walk_skills(source)]


def _bundled_names(path: Path) -> set[str]:
    try:
        return {line.split(":", 1)[0].strip() for line in path.read_text("utf-8", "replace").splitlines() if line}
    except OSError:
        return set()


def _has_hermes_metadata(source: Path) -> bool:
    for skill_md in list(source.glob(f"*/*/{SKILL_FILE}"))[:20]:
        try:
            head = skill_md.read_bytes()[:8192]
        except OSError:
            continue
        if re.search(rb"^\s+hermes:\s*$", head, re.M):
            return True
    return False


# -- copying one skill ----------------------------------------------------------------------------

def _inventory(folder: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """The skill's files (path, kind) and notes; raises InputError for what makes it unsafe.

    Run on the source (to report early) and again on the copy (what is imported), since the
    source may change in between.
    """
    real = folder.resolve()
    files: list[tuple[Path, str]] = []
    notes: list[str] = []
    total = 0
    binary = 0
    for dirpath, dirnames, filenames in walk(folder):  # iterative, depth-capped (SK020), .git left out
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                target = (path.parent / os.readlink(path)).resolve()
                if target != real and real not in target.parents:
                    raise InputError(f"{rel} is a symlink leaving the skill (to {target}); skill not imported",
                                     path=path, code="SC071")
                files.append((path, "link"))
                continue
            if name in dirnames:
                continue
            if not path.is_file():
                notes.append(f"{rel}: not a regular file, left out")
                continue
            size = path.lstat().st_size
            if size > MAX_FILE_BYTES:
                raise InputError(f"{rel} is {size} bytes (over {MAX_FILE_BYTES}); skill not imported", path=path,
                                 code="SC072")
            total += size
            files.append((path, "file"))
            if size and _looks_binary(path):
                binary += 1
        if len(files) > MAX_FILES or total > MAX_SKILL_BYTES:
            raise InputError("skill is implausibly large (files or bytes); not imported", path=folder, code="SC072")
    if binary:
        notes.append(f"{binary} binary file(s) kept as they are")
    return files, notes


def _looks_binary(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return b"\0" in fh.read(4096)
    except OSError:
        return False


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.M)


def annotate(text: str, tier: str) -> str | None:
    """SKILL.md text with ``metadata.skillctl: {origin: imported, trust: TIER}`` added, or None
    when the frontmatter cannot be edited without rewriting the author's YAML (flow-style
    metadata, an existing skillctl block, no frontmatter)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    start = 1 if lines and lines[0].lstrip("\ufeff").strip() == "---" else None
    if start is None:
        return None
    try:
        end = lines.index("---", 1)
    except ValueError:
        return None
    head = lines[1:end]
    block = ["skillctl:", "  origin: imported", f"  trust: {tier}"]
    meta = next((i for i, line in enumerate(head) if re.match(r"^metadata\s*:", line)), None)
    if meta is None:
        new_head = [*head, "metadata:", *("  " + b for b in block)]
    else:
        if head[meta].split(":", 1)[1].strip():
            return None  # flow style or scalar metadata: leave the author's YAML alone
        children = []
        for line in head[meta + 1:]:
            if line.strip() and not line[0].isspace():
                break
            children.append(line)
        indent = next((len(c) - len(c.lstrip()) for c in children if c.strip()), 2)
        if any(c.strip().startswith("skillctl:") and len(c) - len(c.lstrip()) == indent for c in children):
            return None
        new_head = [*head[:meta + 1], *(" " * indent + b for b in block), *head[meta + 1:]]
    # Only hand back an edit that provably added the block and changed nothing else.
    import yaml

    try:
        before = yaml.safe_load("\n".join(head))
        after = yaml.safe_load("\n".join(new_head))
    except yaml.YAMLError:
        return None
    if not isinstance(before, dict) or not isinstance(after, dict):
        return None
    old_meta = before.get("metadata") or {}
    new_meta = after.get("metadata")
    if not isinstance(old_meta, dict) or not isinstance(new_meta, dict):
        return None
    expected = {**before, "metadata": {**old_meta, "skillctl": {"origin": "imported", "trust": tier}}}
    if after != expected:
        return None
    return newline.join([lines[0], *new_head, *lines[end:]])


# -- scanning on the way in ------------------------------------------------------------------------

PARALLEL_FROM = 64
Findings = list[tuple[str, str, bool]]  # (rule, severity, suppressed) of each finding

# The scanner forked workers use, set by the parent just before it forks (read, never written, by them).
_JOB: Any = None


def _findings(scanner: Any, skill: Any) -> Findings:
    try:
        return [(f.rule_id, f.severity, f.suppressed) for f in scanner.scan(skill)]
    except Exception:  # changed under us or unscannable: quarantine it rather than trust it
        return [("UNSCANNABLE", "critical", False)]


def _scan_one(skill: Any) -> Findings:
    assert _JOB is not None, "a worker is forked only after the job is set"
    return _findings(_JOB, skill)


@dataclass
class _Later:
    """A scan done when its result is asked for (the serial path)."""

    scanner: Any
    skill: Any

    def get(self) -> Findings:
        return _findings(self.scanner, self.skill)


@contextlib.contextmanager
def scanning(scanner: Any, count: int) -> Iterator[Callable[[Any], Any]]:
    """``submit(skill)`` for each of *count* parsed skills as soon as it is ready; ``.get()`` on
    what it returns gives that skill's findings.

    From ``PARALLEL_FROM`` skills, forked workers (one per core, forked with the rules the
    parent already compiled) scan what was submitted while the caller prepares the next skill
    (with ``--apply``, copies it into the repo and parses the copy): workers parse nothing, and
    copying overlaps scanning. A skill the scanner cannot handle is one critical finding, in
    either case.
    """
    global _JOB
    from skillctl.deliver.folders import can_fork, cores

    workers = min(cores(), 4)
    if count < PARALLEL_FROM or workers < 2 or not can_fork():
        yield lambda skill: _Later(scanner, skill)
        return
    import multiprocessing

    _JOB = scanner
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            # one skill per task: a few large skills take most of the time, and must not queue up
            yield lambda skill: pool.apply_async(_scan_one, (skill,))
    finally:
        _JOB = None


def _bring_in(item: Found, source: Path, result: Imported, dest_root: Path, repo: Path,
              annotate_files: bool) -> tuple[Any, str] | None:
    """Copy one skill into the repo (a temporary sibling renamed into place) and read the copy
    back: (the copy parsed, its digest), or None when it failed (the result says why).

    The source may still be changing (an agent writing it, a hostile folder racing the import),
    so nothing checked on the source is taken on trust: the copy follows no link
    (``safecopy.copy_tree``, under the import's caps), its links are checked again *in the copy*,
    and what is scanned, digested and recorded is the copy, never the source.
    """
    from skillctl.lock import skill_digest
    from skillctl.parse import read_skill
    from skillctl.safecopy import Caps, copy_tree, remove_tree

    folder = repo / result.dest
    tmp = dest_root / f".skillctl-import-{uuid.uuid4().hex[:8]}-{result.name}"
    try:
        real = item.folder.resolve()
        if real != source and source not in real.parents:
            raise InputError(f"skill folder now leads out of the source (to {real}); not imported", path=item.folder,
                             code="SC071")
        dest_root.mkdir(parents=True, exist_ok=True)
        copy_tree(real, tmp, caps=Caps(MAX_FILE_BYTES, MAX_SKILL_BYTES, MAX_FILES), skip_special=True,
                  skip_names=frozenset({".git"}))
        _inventory(tmp)  # a link leaving the skill, judged on the bytes that will be committed
        if annotate_files:
            md = tmp / SKILL_FILE
            new = annotate(md.read_bytes().decode("utf-8"), result.tier)
            if new is None:
                result.notes.append("not annotated: its metadata cannot be extended without rewriting it")
            else:
                md.write_bytes(new.encode("utf-8"))
        os.rename(tmp, folder)
    except (OSError, UnicodeDecodeError, InputError) as exc:
        with contextlib.suppress(OSError):
            remove_tree(tmp)
        result.outcome, result.reason = "skipped", f"copy failed: {exc}"
        return None
    try:
        skill = read_skill(folder, root=repo)
        if skill.name != result.name:
            raise InputError(f"its name changed to {skill.name!r} while it was being imported", path=folder,
                             code="SC071")
        return skill, skill_digest(folder, root=repo)
    except InputError as exc:
        with contextlib.suppress(OSError):
            remove_tree(folder)
        result.outcome, result.reason = "skipped", f"copy failed: {exc}"
        return None


# -- the whole import ------------------------------------------------------------------------------

def run_import(repo: Path, source: Path, *, dest: str = "skills", tier: str | None = None, annotate_files: bool = False,
               apply: bool = False, now: datetime | None = None) -> ImportReport:
    from skillctl.config import load_config
    from skillctl.lock import lock_transaction, read_lock
    from skillctl.lockmodel import Lock, LockEntry
    from skillctl.parse import read_skill
    from skillctl.policy import Policy, effective_tier
    from skillctl.scan import Scanner

    repo = Path(repo).resolve()
    source = Path(source)
    if not source.is_dir():
        raise InputError("import source is not a directory", path=source, code="SK007")
    if tier is not None and tier not in TRUST_TIERS:
        raise InputError(f"unknown trust tier {tier!r} (one of {', '.join(TRUST_TIERS)})", code="SC003")
    dest_root = (repo / dest).resolve()
    if repo != dest_root and repo not in dest_root.parents:
        raise InputError("--dest must lie inside the repository", path=dest, code="SC003")
    source = source.resolve()
    if source == repo or dest_root in (source, *source.parents):
        raise InputError("the source is inside the destination; nothing to import", path=source, code="SC003")
    now = now or utcnow()
    config = load_config(repo)
    scanner = Scanner.from_config(config, root=repo)
    policy = Policy.from_config(config)
    kind, found = discover(source, cast("Tier | None", tier))
    lock = read_lock(repo)
    report = ImportReport(source=str(source), kind=kind, applied=apply)
    taken = {n.casefold(): "the repo" for n in lock.skills}
    entries: dict[str, LockEntry] = {}
    written: list[Path] = []
    accepted: list[tuple[Found, Any, Imported]] = []
    for item in found:
        rel_src = item.folder.relative_to(source).as_posix() if item.folder != source else "."
        result = Imported(name=item.folder.name, source_path=rel_src, outcome="skipped", tier=item.tier)
        report.skills.append(result)
        try:
            if item.folder.is_symlink():
                target = item.folder.resolve()
                if target != source and source not in target.parents:
                    raise InputError(f"skill folder is a symlink leaving the source (to {target}); import that "
                                     "folder instead", path=item.folder, code="SC071")
            skill = read_skill(item.folder, root=source)
            _files, result.notes = _inventory(item.folder)
        except InputError as exc:
            result.reason = f"{exc.code} {exc.message}"
            continue
        name = skill.name
        result.name = name
        if not safe_folder_name(name) or len(name) > 64:
            result.reason = f"name {name!r} cannot be a folder name"
            continue
        if name.casefold() in taken:
            result.reason = f"name already taken by {taken[name.casefold()]}"
            continue
        if skill.name != item.folder.name:
            result.notes.append(f"folder is {item.folder.name!r} but name: is {name!r}; imported as {name!r}")
        if item.category:
            result.notes.append(f"Hermes category {item.category}")
        # The source grants the tier (recorded as source_tier); the skill's own text can only lower it.
        result.tier = effective_tier(policy, skill, entry=LockEntry(source_tier=item.tier)).tier
        folder = dest_root / name
        result.dest = folder.relative_to(repo).as_posix()
        if folder.exists() or folder.is_symlink():
            result.reason = f"{result.dest} already exists in the repo"
            continue
        taken[name.casefold()] = rel_src
        accepted.append((item, skill, result))
    if apply:  # each copy is scanned at the tier its lock entry will record, as verify will scan it
        drafts = {result.name: LockEntry(source_tier=item.tier, path=result.dest) for item, _s, result in accepted}
        scanner = dataclasses.replace(scanner, lock=Lock(skills={**lock.skills, **drafts}))
    with scanning(scanner, len(accepted)) as submit:
        # with --apply, copied first and the copy scanned: what is scanned is what is imported
        pending = []
        for item, skill, result in accepted:
            digest = None
            if apply:
                got = _bring_in(item, source, result, dest_root, repo, annotate_files)
                if got is None:
                    continue  # the copy failed: skipped, with the reason
                skill, digest = got
            pending.append((item, skill, result, digest, submit(skill)))
        for item, skill, result, digest, scan in pending:
            findings = scan.get()
            effective, name, folder = result.tier, result.name, repo / result.dest
            if apply:  # the copy's own text may lower the tier it earns (never raise it)
                effective = result.tier = effective_tier(policy, skill, entry=LockEntry(source_tier=item.tier)).tier
            blocking = [rule for rule, severity, suppressed in findings if policy.blocks(severity, effective)
                        and (not suppressed or not policy.honours_inline_suppressions(effective))]
            result.findings = sorted(set(blocking))
            status: Status = "quarantined" if blocking else "draft"
            result.outcome = ("quarantined" if blocking else "imported") if apply else (
                "would-quarantine" if blocking else "would-import")
            result.reason = (f"blocking findings for tier {effective}: {', '.join(result.findings)}" if blocking
                             else "draft: run skillctl verify to activate")
            if not apply:
                continue
            written.append(folder)
            entries[name] = LockEntry(
                status=status, reason=f"imported from {kind}" + (f"; {result.reason}" if blocking else ""),
                since=now, digest=digest, path=folder.relative_to(repo).as_posix(), origin="imported",
                source_tier=item.tier, source=item.source, findings=result.findings,
                version=skill.lifecycle.version if skill.lifecycle else None)
    if apply and entries:
        with lock_transaction(repo) as current:
            for name, entry in entries.items():
                current.skills.setdefault(name, entry)
        from skillctl.gitops import commit_paths
        from skillctl.lock import lock_path

        report.commit = commit_paths(repo, [*written, lock_path(repo)],
                                     f"skillctl import: {len(entries)} skill(s) from {kind} {source.name} as drafts")
    return report
