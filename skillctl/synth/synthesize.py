"""``skillctl synth``: sessions in, reviewed drafts (or proposals) out, nothing unchecked written.

Per session: read (``sessions``) -> redact (``redact``) -> gather the evidence and refuse what
proves nothing (``draft.gather``) -> draft offline or with the model -> hold the draft to the
evidence (``draft.draft_problems``) -> render -> ``validate --strict`` and ``scan`` on a staged
copy -> write a new skill as ``draft`` in the lock, or a proposal when a skill with the same
purpose exists. All drafts are made before anything is written, so a model server that fails
halfway leaves the repo as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.synth.draft import (
    Evidence,
    ModelSettings,
    SynthRefused,
    draft_problems,
    gather,
    llm_draft,
    offline_draft,
    render,
)
from skillctl.synth.redact import Redactions, redact_session, redact_text
from skillctl.synth.sessions import Session, read_sessions

SKILLS_DIR = "skills"


@dataclass
class SynthResult:
    """What happened to one session."""

    session: str
    format: str
    path: str
    status: str                   # written | proposed | refused | rejected | dry-run
    reason: str
    name: str | None = None
    written: str | None = None    # skill folder or proposal id
    findings: list[str] = field(default_factory=list)
    redactions: str = "none"
    warnings: list[str] = field(default_factory=list)
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.pop("text")
        return data


@dataclass
class _Pending:
    session: Session
    redactions: Redactions
    result: SynthResult
    evidence: Evidence | None = None
    text: str | None = None
    name: str | None = None


def model_settings(config: Any, environ: dict[str, str] | None = None) -> ModelSettings:
    """The model to draft with: ``synth.base_url`` in skillctl.yaml, else ``OPENAI_BASE_URL``."""
    env = os.environ if environ is None else environ
    block = config.synth
    base_url = block.base_url or env.get("OPENAI_BASE_URL")
    if not base_url:
        raise InputError("no model configured for drafting: set synth.base_url in skillctl.yaml or "
                         "OPENAI_BASE_URL, or use --offline", code="SC111")
    key = env.get(block.api_key_env) or env.get("OPENAI_API_KEY") or ""
    return ModelSettings(base_url=base_url, model=block.model, api_key=key, timeout=block.timeout,
                         retries=block.retries)


def synthesize(root: Path, paths: list[Path], *, into: Path | None = None, offline: bool = False,
               min_calls: int | None = None, name: str | None = None, branch: bool = False,
               dry_run: bool = False, settings: ModelSettings | None = None) -> list[SynthResult]:
    from skillctl.config import load_config

    repo = Path(into or root).resolve()
    config = load_config(repo)
    min_calls = min_calls or config.synth.min_calls
    if not offline and settings is None:
        settings = model_settings(config)
    pending: list[_Pending] = []
    for path in paths:
        for session in read_sessions(path):
            found = redact_session(session)
            result = SynthResult(session.id, session.format, str(path), "refused", "", redactions=found.summary(),
                                 warnings=list(session.warnings))
            pending.append(_Pending(session, found, result))
    for item in pending:  # every draft first: a failing model server leaves nothing half-written
        _draft(item, min_calls=min_calls, name=name if len(pending) == 1 else None, offline=offline,
               settings=settings, repo=repo)
    for item in pending:
        if item.text is not None and item.name is not None and item.result.status == "drafted":
            if dry_run:
                item.result.status, item.result.reason = "dry-run", "draft passes validate --strict and scan"
                continue
            _write(repo, item, branch=branch)
    return [p.result for p in pending]


def _draft(item: _Pending, *, min_calls: int, name: str | None, offline: bool, settings: ModelSettings | None,
           repo: Path) -> None:
    r = item.result
    try:
        ev = gather(item.session, min_calls=min_calls)
    except SynthRefused as exc:
        r.status, r.reason = "refused", exc.message
        return
    item.evidence = ev
    draft = offline_draft(ev, name) if offline else llm_draft(ev, settings, name)  # type: ignore[arg-type]
    problems = draft_problems(draft, ev)
    if problems:
        r.status, r.reason, r.findings = "rejected", "the draft misstates the session", problems
        return
    text = render(draft, ev, ttl=_repo_ttl(repo))
    cleaned = redact_text(text)
    if cleaned != text:  # a secret survived into the rendering (an LLM can echo one): never write it
        r.status, r.reason = "rejected", "the rendered draft still contained a secret"
        r.findings = ["secret found in the rendered draft after redaction"]
        return
    findings = check_text(repo, draft.name, text)
    if findings:
        r.status, r.reason, r.findings = "rejected", "the draft fails validate --strict or scan", findings
        return
    item.text, item.name = text, draft.name
    r.status, r.reason, r.name, r.text = "drafted", "", draft.name, text


def _repo_ttl(repo: Path) -> str:
    from skillctl.config import load_config

    return load_config(repo).ttl


def check_text(repo: Path, name: str, text: str) -> list[str]:
    """Findings that stop *text* from being written as skill *name*: strict validation errors and
    blocking scan findings, judged on a staged copy with the repo's config and skill names."""
    from skillctl.config import load_config
    from skillctl.parse import read_skill
    from skillctl.scan import Scanner
    from skillctl.scan.names import established_names
    from skillctl.validate import validate_skill

    staging_root = Path(repo) / ".skillctl"
    staging_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="synth-", dir=staging_root))
    try:
        folder = tmp / name
        folder.mkdir()
        (folder / "SKILL.md").write_text(text, encoding="utf-8")
        try:
            skill = read_skill(folder, root=tmp)
        except InputError as exc:
            return [f"{exc.code} {exc.message}"]
        problems = [f"{d.code} {d.message}" for d in validate_skill(skill, strict=True)
                    if getattr(d.severity, "value", d.severity) == "error"]
        config = load_config(repo)
        # staged outside the repo's lock: no tier grant or approval applies, and the skill's own
        # `trust: synthesized` sets its tier; look-alikes are judged against the repo's names
        scanner = Scanner.from_config(config, root=tmp)
        scanner.established = established_names(Path(repo)) - {name}
        for finding in scanner.scan(skill):
            if finding.blocking:
                problems.append(f"{finding.rule_id} ({finding.severity}) line {finding.line}: {finding.message}")
        return problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write(repo: Path, item: _Pending, *, branch: bool) -> None:
    from skillctl.clock import utcnow
    from skillctl.lock import atomic_write, lock_transaction, skill_digest
    from skillctl.lockmodel import LockEntry
    from skillctl.repo import relpath
    from skillctl.synth import proposals
    from skillctl.synth.draft import VERSION

    r, s, ev = item.result, item.session, item.evidence
    assert item.text is not None and item.name is not None and ev is not None
    evidence = {"session": {"id": s.id, "format": s.format, "path": r.path},
                "steps": [{"index": st.index, "command": st.command, "exit_code": st.exit_code}
                          for st in ev.procedure],
                "corrections": [{"failed": c.failed.command, "fixed": c.fixed.command} for c in ev.corrections],
                "check": ev.check.command if ev.check else None, "redactions": r.redactions}
    description = next((ln.split(":", 1)[1].strip() for ln in item.text.splitlines()
                        if ln.startswith("description:")), "")
    existing = proposals.same_purpose(repo, item.name, description)
    if existing is not None:
        skill_name, folder = existing
        text = item.text.replace(f"name: {item.name}\n", f"name: {skill_name}\n", 1)
        old = (folder / "SKILL.md").read_text(encoding="utf-8", errors="replace")
        p = proposals.create(repo, skill=skill_name, folder=folder, old_text=old, new_text=text, kind="synth",
                             reason=f"session {s.id} ({s.format}) did what {skill_name} is for",
                             evidence=evidence, base_digest=skill_digest(folder), branch=branch)
        r.status, r.written, r.name = "proposed", p.id, skill_name
        r.reason = f"{skill_name} already serves this purpose: proposal {p.id}" + (
            f" (branch {p.branch})" if p.branch else "")
        return
    folder = repo / SKILLS_DIR / item.name
    if folder.exists() or folder.is_symlink():
        r.status, r.reason = "rejected", f"{relpath(folder, repo)} exists and is not a skill; nothing written"
        return
    folder.mkdir(parents=True)
    atomic_write(folder / "SKILL.md", item.text)
    now = utcnow()
    rel = relpath(folder, repo)
    with lock_transaction(repo) as lock:
        lock.skills[item.name] = LockEntry(
            version=VERSION, digest=skill_digest(folder), status="draft", since=now, path=rel,
            reason=f"synthesized from {s.format} session {s.id}; run `skillctl verify` to activate",
            notes=[f"synthesized: {len(ev.procedure)} steps, {len(ev.corrections)} pitfall(s), "
                   f"check {ev.check.command if ev.check else '-'}"[:300]])
    r.status, r.written, r.reason = "written", rel, "draft written; `skillctl verify` decides whether it is active"
