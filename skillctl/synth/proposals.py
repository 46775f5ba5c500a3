"""Proposals, not silent edits: a change to an existing skill waits for a human.

Two things produce one. ``synth`` finds that a skill with the same purpose already exists and
proposes its draft as a change to it instead of writing a second skill. ``capture`` finds a
skill whose files no longer match the digest the lock certified — an agent edited it in place
(Hermes' ``skill_manage`` does this) — keeps the edit as a proposal, and optionally restores
the certified content, so the edit is neither loaded unreviewed nor lost.

A proposal is a folder ``.skillctl/proposals/<id>/`` holding ``proposal.json`` (what, why, the
evidence: session id and steps), ``change.diff`` (a unified diff a reviewer reads) and
``SKILL.md`` (the proposed text). ``apply`` refuses when the skill changed since the proposal
was made, writes the text with a bumped version and leaves the skill needing ``verify``;
``reject`` records why. With ``--branch``, the change is also committed on a new git branch
(built with plumbing, so the work tree and index are untouched) ready for a pull request.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skillctl.errors import InputError, SkillctlError

PROPOSALS = "proposals"
STATUSES = ("open", "applied", "rejected")
_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[a-z0-9-]{1,64}-[0-9a-f]{8}$")


@dataclass
class Proposal:
    id: str
    skill: str
    path: str                     # the skill folder, relative to the repo
    kind: str                     # synth | capture
    created_at: str
    base_digest: str | None       # the folder's digest when proposed: apply refuses if it moved
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    status: str = "open"
    decided_at: str | None = None
    decision: str | None = None
    branch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def proposals_dir(root: Path) -> Path:
    from skillctl.state import STATE_DIR

    return Path(root) / STATE_DIR / PROPOSALS


def _folder(root: Path, proposal_id: str) -> Path:
    if not _ID_RE.match(proposal_id):
        raise InputError(f"{proposal_id!r} is not a proposal id (see `skillctl proposals list`)", code="SC120")
    folder = proposals_dir(root) / proposal_id
    if not (folder / "proposal.json").is_file():
        raise InputError(f"no proposal {proposal_id}", path=proposals_dir(root), code="SC121")
    return folder


def unified_diff(old: str, new: str, rel: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{rel}", tofile=f"b/{rel}"))


def create(root: Path, *, skill: str, folder: Path, old_text: str, new_text: str, kind: str, reason: str,
           evidence: dict[str, Any], base_digest: str | None, branch: bool = False) -> Proposal:
    """Store a proposal to replace *folder*/SKILL.md (*old_text*) with *new_text*."""
    from skillctl.clock import format_ts, utcnow
    from skillctl.lock import atomic_write
    from skillctl.repo import relpath

    root = Path(root)
    now = utcnow()
    rel = relpath(folder, root)
    digest = hashlib.sha256(new_text.encode()).hexdigest()[:8]
    pid = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{skill}-{digest}"
    proposal = Proposal(id=pid, skill=skill, path=rel, kind=kind, created_at=format_ts(now),
                        base_digest=base_digest, reason=reason, evidence=evidence)
    if branch:
        proposal.branch = _branch(root, proposal, f"{rel}/SKILL.md", new_text)
    out = proposals_dir(root) / pid
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "SKILL.md", new_text)
    atomic_write(out / "change.diff", unified_diff(old_text, new_text, f"{rel}/SKILL.md"))
    atomic_write(out / "proposal.json", json.dumps(proposal.to_dict(), indent=1, sort_keys=True) + "\n")
    return proposal


def load(root: Path, proposal_id: str) -> Proposal:
    folder = _folder(root, proposal_id)
    try:
        data = json.loads((folder / "proposal.json").read_text(encoding="utf-8"))
        return Proposal(**{k: v for k, v in data.items() if k in Proposal.__dataclass_fields__})
    except (ValueError, TypeError, OSError) as exc:
        raise InputError(f"proposal is unreadable: {exc}", path=folder / "proposal.json", code="SC122") from None


def list_proposals(root: Path, status: str | None = None) -> list[Proposal]:
    base = proposals_dir(root)
    if not base.is_dir():
        return []
    out = []
    for folder in sorted(base.iterdir()):
        if folder.is_dir() and _ID_RE.match(folder.name) and (folder / "proposal.json").is_file():
            try:
                p = load(root, folder.name)
            except InputError:
                continue
            if status is None or p.status == status:
                out.append(p)
    return out


def diff_text(root: Path, proposal_id: str) -> str:
    return (_folder(root, proposal_id) / "change.diff").read_text(encoding="utf-8")


def _save(root: Path, proposal: Proposal) -> None:
    from skillctl.lock import atomic_write

    atomic_write(_folder(root, proposal.id) / "proposal.json",
                 json.dumps(proposal.to_dict(), indent=1, sort_keys=True) + "\n")


def _require_open(proposal: Proposal) -> None:
    if proposal.status != "open":
        raise InputError(f"proposal {proposal.id} is already {proposal.status}", code="SC123")


def apply(root: Path, proposal_id: str) -> tuple[Proposal, str]:
    """Write the proposed SKILL.md with a bumped version; the skill then needs ``verify``.

    Returns the proposal and the new version. Refuses when the skill's folder changed since the
    proposal was made (the diff would no longer say what apply does).
    """
    from skillctl.clock import format_ts, utcnow
    from skillctl.lock import atomic_write, lock_transaction, skill_digest

    root = Path(root)
    proposal = load(root, proposal_id)
    _require_open(proposal)
    folder = root / proposal.path
    if not _inside(folder, root) or folder.is_symlink() or (folder / "SKILL.md").is_symlink():
        raise InputError(f"proposal {proposal.id} names {proposal.path!r}, which is not a skill folder inside the "
                         "repo; refusing to write there", code="SC127")
    current = skill_digest(folder) if (folder / "SKILL.md").is_file() else None
    if proposal.base_digest is not None and current != proposal.base_digest:
        raise InputError(f"{proposal.path} changed since proposal {proposal.id} was made; the diff no longer "
                         "says what apply would do (reject it and re-run synth or capture)", code="SC124")
    text = (_folder(root, proposal_id) / "SKILL.md").read_text(encoding="utf-8")
    old_text = (folder / "SKILL.md").read_text(encoding="utf-8") if current else ""
    text, version = bump_version(text, old_text)
    _check_before_write(root, folder, text)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "SKILL.md", text)
    now = utcnow()
    with lock_transaction(root) as lock:
        entry = lock.skills.get(proposal.skill)
        if entry is not None:
            status = "stale" if entry.verified_at else "draft"
            lock.skills[proposal.skill] = entry.model_copy(update={
                "status": status, "since": now, "version": version,
                "reason": f"proposal {proposal.id} applied ({proposal.kind}); re-verify before agents load it"})
    proposal.status, proposal.decided_at = "applied", format_ts(now)
    proposal.decision = f"applied as version {version}"
    _save(root, proposal)
    return proposal, version


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return path.resolve() != root.resolve()


def reject(root: Path, proposal_id: str, reason: str) -> Proposal:
    from skillctl.clock import format_ts, utcnow

    proposal = load(root, proposal_id)
    _require_open(proposal)
    proposal.status, proposal.decided_at = "rejected", format_ts(utcnow())
    proposal.decision = reason.strip() or "rejected"
    _save(root, proposal)
    return proposal


_VERSION_LINE = re.compile(r"^(?P<indent>\s+)version:\s*['\"]?(?P<v>[^\s'\"#]+)['\"]?", re.M)


def bump_version(text: str, old_text: str) -> tuple[str, str]:
    """*text* with ``metadata.skillctl.version`` one minor above the current skill's version."""
    old = _VERSION_LINE.search(old_text.split("\n---", 1)[0]) if old_text else None
    new = _VERSION_LINE.search(text.split("\n---", 1)[0])
    base = old.group("v") if old else (new.group("v") if new else "0.0.0")
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)", base)
    major, minor = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    version = f"{major}.{minor + 1}.0"
    if new is None:
        return text, version
    start, end = new.span()
    return text[:start] + f"{new.group('indent')}version: {version}" + text[end:], version


def _check_before_write(root: Path, folder: Path, text: str) -> None:
    """The applied text passes validate --strict and the scan, like every text skillctl writes."""
    from skillctl.synth.synthesize import check_text

    problems = check_text(root, folder.name, text)
    if problems:
        raise SkillctlError("the proposed SKILL.md does not pass: " + "; ".join(problems[:5]), code="SC125")


# -- finding the skill with the same purpose -----------------------------------------------

_WORDS = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> set[str]:
    from skillctl.synth.draft import STOPWORDS

    return {w for w in _WORDS.findall(text.lower()) if w not in STOPWORDS and len(w) > 2}


def same_purpose(root: Path, name: str, description: str, threshold: float = 0.5) -> tuple[str, Path] | None:
    """The existing skill *name*/*description* duplicates, if any: (skill name, folder).

    The same name always counts. Otherwise the repo's FTS index (``skillctl.search``) proposes
    candidates and a word-overlap score over name + description decides, so a near-synonym
    does not silently become a second skill.
    """
    from skillctl.parse import read_skill
    from skillctl.repo import discover_skills

    root = Path(root)
    folders: dict[str, Path] = {}
    for folder in discover_skills(root) if root.is_dir() else []:
        try:
            skill = read_skill(folder, root=root)
        except InputError:
            continue
        folders[skill.name] = folder
        if skill.name == name or folder.name == name:
            return skill.name, folder
    candidates = _search_candidates(root, f"{name.replace('-', ' ')} {description}") or list(folders)
    want = _tokens(f"{name.replace('-', ' ')} {description}")
    best: tuple[float, str] | None = None
    for cand in candidates:
        found = folders.get(cand)
        if found is None:
            continue
        skill = read_skill(found, root=root)
        have = _tokens(f"{skill.name.replace('-', ' ')} {skill.description or ''}")
        if not want or not have:
            continue
        score = len(want & have) / min(len(want), len(have))
        if score >= threshold and (best is None or score > best[0]):
            best = (score, cand)
    return (best[1], folders[best[1]]) if best else None


def _search_candidates(root: Path, query: str) -> list[str]:
    """Names the FTS index ranks for *query* (all statuses); empty when there is no index."""
    if not (root / "skills.lock").is_file():
        return []
    try:
        from skillctl import search
    except ImportError:
        return []
    words = " OR ".join(sorted(_tokens(query))[:12])
    if not words:
        return []
    try:
        return [hit.name for hit in search(root, words, 10, include_all=True)]
    except (SkillctlError, OSError, ValueError):
        return []


# -- in-place edits ----------------------------------------------------------------------

def capture(root: Path, *, restore: bool = False) -> list[Proposal]:
    """A proposal for every skill whose files differ from the digest the lock certified.

    The certified text comes from git (HEAD's copy, when its digest is the lock's), so the
    diff shows exactly what the agent changed. With *restore*, the certified files are put
    back and agents get the reviewed skill again; the edit lives on in the proposal.
    """
    from skillctl.lock import atomic_write, read_lock, skill_digest

    root = Path(root)
    lock = read_lock(root, missing_ok=False)
    out = []
    open_for = {(p.path, p.base_digest) for p in list_proposals(root, "open") if p.kind == "capture"}
    for name, entry in sorted(lock.skills.items()):
        if not entry.path or not entry.digest or entry.status not in ("active", "stale", "failing"):
            continue
        folder = root / entry.path
        if not (folder / "SKILL.md").is_file():
            continue
        now_digest = skill_digest(folder)
        if now_digest == entry.digest or (entry.path, now_digest) in open_for:
            continue
        edited = (folder / "SKILL.md").read_text(encoding="utf-8", errors="replace")
        certified = _git_show(root, f"{entry.path}/SKILL.md")
        proposal = create(root, skill=name, folder=folder, old_text=certified or "", new_text=edited,
                          kind="capture", base_digest=entry.digest if restore else now_digest,
                          reason=f"{entry.path} was edited in place: its digest no longer matches the lock "
                                 f"({entry.digest[:19]}…), so agents stopped loading it",
                          evidence={"lock_digest": entry.digest, "found_digest": now_digest,
                                    "certified_in_git": certified is not None})
        if restore and certified is not None:
            atomic_write(folder / "SKILL.md", certified)
            if skill_digest(folder) != entry.digest:  # other files changed too: leave SKILL.md as edited
                atomic_write(folder / "SKILL.md", edited)
                proposal.base_digest = now_digest
            else:
                proposal.evidence["restored"] = True
            _save(root, proposal)
        out.append(proposal)
    out.extend(_capture_synced(root, lock, restore=restore))
    return out


def _capture_synced(root: Path, lock: Any, *, restore: bool) -> list[Proposal]:
    """Copies ``sync`` wrote into agent folders and an agent then edited (the manifest's digest no
    longer matches): sync leaves such a folder alone, so the agent would keep loading the edit.

    Each becomes a proposal holding the whole edited folder; with *restore* the edited folder is
    moved into the proposal, so the next ``sync`` writes the verified copy back.
    """
    import shutil

    from skillctl.config import load_config
    from skillctl.deliver.manifest import owned, read_manifest
    from skillctl.deliver.targets import targets_from_config
    from skillctl.lock import skill_digest

    config = load_config(root)
    try:
        targets = targets_from_config(config.sync, project=root, where=config.path)
    except SkillctlError:
        return []
    seen = {p.evidence.get("copy"): p for p in list_proposals(root, "open") if p.kind == "capture"}
    out = []
    for target in targets:
        try:
            manifest = read_manifest(target.path)
        except InputError:
            continue  # sync reports a corrupt manifest; nothing here is trusted or touched
        for name, entry in sorted(manifest.entries.items()):
            copy = target.path / name
            lock_entry = lock.skills.get(name)
            if entry.mode != "copy" or not copy.is_dir() or copy.is_symlink() or lock_entry is None \
                    or not lock_entry.path or owned(copy, entry):
                continue
            try:
                found = skill_digest(copy)
            except InputError:
                continue
            prior = seen.get(str(copy))
            if prior is not None and prior.evidence.get("found_digest") == found:
                continue
            folder = root / lock_entry.path
            certified = (folder / "SKILL.md").read_text(encoding="utf-8", errors="replace") \
                if (folder / "SKILL.md").is_file() else ""
            edited = (copy / "SKILL.md").read_text(encoding="utf-8", errors="replace") \
                if (copy / "SKILL.md").is_file() else ""
            base = skill_digest(folder) if (folder / "SKILL.md").is_file() else None
            proposal = create(root, skill=name, folder=folder, old_text=certified, new_text=edited, kind="capture",
                              base_digest=base,
                              reason=f"the copy sync wrote to {target.label} was edited in place by an agent",
                              evidence={"target": target.label, "copy": str(copy), "synced_digest": entry.digest,
                                        "found_digest": found})
            kept = proposals_dir(root) / proposal.id / "edited"
            if restore:
                shutil.move(str(copy), str(kept))  # the next sync writes the verified copy again
                proposal.evidence["restored"] = True
            else:
                shutil.copytree(copy, kept, symlinks=True)
            _save(root, proposal)
            out.append(proposal)
    return out


def _git(root: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env, input=input,
                          timeout=60)
    if proc.returncode != 0:
        raise SkillctlError(f"git {args[0]} failed: {proc.stderr.strip()[:300]}", path=root, code="SC126")
    return proc.stdout


def _git_show(root: Path, rel: str) -> str | None:
    try:
        return _git(root, "show", f"HEAD:{rel}")
    except (SkillctlError, OSError):
        return None


def _branch(root: Path, proposal: Proposal, rel_file: str, text: str) -> str:
    """Commit *text* at *rel_file* on a new branch off HEAD, leaving the work tree and index alone."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    rel = (Path(root).resolve() / rel_file).relative_to(top.resolve()).as_posix()
    name = f"skillctl/proposal-{proposal.skill}-{proposal.id[-8:]}"
    blob = _git(top, "hash-object", "-w", "--stdin", input=text).strip()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(top, "read-tree", "HEAD", env=env)
        _git(top, "update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}", env=env)
        tree = _git(top, "write-tree", env=env).strip()
    message = (f"skillctl proposal: {proposal.kind} change to {proposal.skill}\n\n{proposal.reason}\n\n"
               f"Proposal: {proposal.id}\n")
    session = proposal.evidence.get("session")
    if isinstance(session, dict):
        message += f"Session: {session.get('format')} {session.get('id')}\n"
    commit = _git(top, "commit-tree", tree, "-p", "HEAD", "-m", message).strip()
    _git(top, "update-ref", f"refs/heads/{name}", commit, "")
    return name
