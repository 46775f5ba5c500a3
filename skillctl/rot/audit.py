"""``audit``: is what the lock calls ``active`` still trustworthy today?

Two kinds of rot demote an active skill to ``stale``: its TTL ran out (``now >= expires_at``:
nobody re-verified it in time) or a pinned dependency rotted past the repo's policy (yanked,
deprecated, gone, a major version behind...). Audit never promotes and never touches a skill
that is not active: getting back to ``active`` takes a fresh verification (``skillctl verify``).
It is a dry run unless ``apply``: then the transitions are written under the lock guard and
only ``skills.lock`` is committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from skillctl.clock import as_utc, format_ts, utcnow
from skillctl.config import RepoConfig, load_config
from skillctl.errors import InputError
from skillctl.lock import lock_path, lock_transaction, read_lock
from skillctl.model import Pin, parse_ttl
from skillctl.repo import discover_skills, relpath
from skillctl.rot import PinReport, RotPolicy, judge
from skillctl.rot.registries.base import ResolveError
from skillctl.rot.registries.resolve import ResolveOptions, pin_key, resolve_pins
from skillctl.rot.skillfacts import SkillFacts, skill_facts


@dataclass
class SkillAudit:
    """One skill: its TTL, its pins, and the status it has now and would have after the audit."""

    name: str
    path: str
    status_now: str
    status_after: str
    expires_at: datetime | None = None
    expired: bool = False
    reasons: list[str] = field(default_factory=list)
    pins: list[PinReport] = field(default_factory=list)
    error: str | None = None
    skill_md: str | None = None
    ttl_line: int | None = None
    lock_reason: str = ""

    @property
    def changed(self) -> bool:
        return self.status_now != self.status_after

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": self.path, "status_now": self.status_now,
            "status_after": self.status_after, "expires_at": self.expires_at, "expired": self.expired,
            "reasons": self.reasons, "error": self.error, "pins": [p.to_json() for p in self.pins],
        }


@dataclass
class AuditReport:
    checked_at: datetime
    offline: bool
    policy: RotPolicy
    skills: list[SkillAudit] = field(default_factory=list)
    applied: bool = False
    commit: str | None = None

    @property
    def transitions(self) -> list[SkillAudit]:
        return [s for s in self.skills if s.changed]

    @property
    def exit_code(self) -> int:
        """1 when anything is stale because of this audit's evidence, or a skill is unreadable."""
        return 1 if any(s.reasons or s.error for s in self.skills) else 0

    def to_json(self) -> dict[str, Any]:
        pins = [p for s in self.skills for p in s.pins]
        return {
            "checked_at": self.checked_at, "offline": self.offline,
            "policy": {"stale_on": sorted(self.policy.stale_on),
                       "abandoned_after_days": self.policy.abandoned_after.days,
                       "min_release_age_days": self.policy.min_release_age.days},
            "skills": [s.to_json() for s in self.skills],
            "summary": {
                "skills": len(self.skills), "pins": len(pins), "transitions": len(self.transitions),
                "blocking": sum(len(p.blocking(self.policy)) for p in pins),
                "unreachable": sum(1 for p in pins if any(f.kind == "unreachable" for f in p.findings)),
                "from_cache": sum(1 for p in pins if p.source in ("cache", "stale-cache")),
            },
            "applied": self.applied, "commit": self.commit,
        }


def resolve_options(config: RepoConfig, *, offline: bool = False, refresh: bool = False,
                    jobs: int | None = None) -> ResolveOptions:
    """Registry client settings from the ``audit:`` block of skillctl.yaml (all optional)::

        audit: {timeout: 10, retries: 2, concurrency: 16, cache_ttl: 6h}
    """
    audit = config.audit
    values: dict[str, Any] = {"timeout": audit.timeout, "retries": audit.retries, "concurrency": audit.concurrency}
    cache_ttl = parse_ttl(audit.cache_ttl) or ResolveOptions().cache_ttl
    if config.registry_snapshot:
        base = config.path.parent if config.path is not None else Path.cwd()
        values["snapshot"] = (base / config.registry_snapshot).resolve()
    if jobs is not None:
        values["concurrency"] = max(1, jobs)
    return ResolveOptions(cache_ttl=cache_ttl, offline=offline, refresh=refresh, **values)


def expiry(entry_expires: datetime | None, verified_at: datetime | None, ttl: timedelta | None) -> datetime | None:
    """The lock's ``expires_at``; for an entry without one, ``verified_at + ttl``."""
    if entry_expires is not None:
        return as_utc(entry_expires)
    if verified_at is not None and ttl is not None:
        return as_utc(verified_at) + ttl
    return None


def run_audit(root: Path, names: Sequence[str] | None = None, *, offline: bool = False, refresh: bool = False,
              apply: bool = False, jobs: int | None = None, now: datetime | None = None,
              environ: dict[str, str] | None = None) -> AuditReport:
    """Audit the skills of *root* (all, or *names*). Registry trouble is a finding, never an error."""
    root = Path(root).resolve()
    now = as_utc(now) if now else utcnow()
    config = load_config(root)
    policy = RotPolicy.from_config(config)
    options = resolve_options(config, offline=offline, refresh=refresh, jobs=jobs)
    lock = read_lock(root)
    report = AuditReport(checked_at=now, offline=offline, policy=policy)
    skills: list[tuple[SkillAudit, SkillFacts]] = []
    wanted = set(names) if names else None
    by_path = {entry.path: name for name, entry in lock.skills.items() if entry.path}
    folders = {}
    for folder in discover_skills(root):
        rel = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else relpath(folder, root)
        name = by_path.get(rel, folder.name)  # the lock's name for this folder, as verify records it
        if wanted is None or name in wanted:
            folders[folder] = (name, rel)
    db = _open_state(root)
    try:
        facts = skill_facts(root, list(folders), db)
    finally:
        if db is not None:
            db.close()
    for folder, (name, rel) in folders.items():
        entry = lock.skills.get(name)
        status = entry.status if entry else "untracked"
        fact = facts[folder]
        if isinstance(fact, InputError):
            report.skills.append(SkillAudit(name, rel, status, status, error=str(fact)))
            continue
        row = SkillAudit(name, rel, status, status, skill_md=fact.skill_md, ttl_line=fact.ttl_line)
        if entry is not None:
            row.lock_reason = entry.reason
            ttl = fact.ttl_delta() or parse_ttl(config.ttl)
            row.expires_at = expiry(entry.expires_at, entry.verified_at, ttl)
            row.expired = row.expires_at is not None and now >= row.expires_at
        skills.append((row, fact))
    if wanted:
        unknown = sorted(wanted - {s.name for s, _ in skills} - {s.name for s in report.skills})
        if unknown:
            raise InputError(f"no skill named {', '.join(map(repr, unknown))} in this repo", path=root, code="SK009")
    pins = [pin for _, fact in skills for pin in fact.pins]
    registries: dict[str, str] = dict(config.registries)
    if options.snapshot is not None:  # every datasource answers from the recorded documents
        from skillctl.rot.registries.snapshot import base_urls

        registries, environ = base_urls(), {}
    lookups = resolve_pins(pins, root=root, registries=registries, options=options, environ=environ)
    for row, fact in skills:
        for pin in fact.pins:
            row.pins.append(judge(pin, lookups[_key(pin, registries, environ)], policy, now))
        _decide(row, policy)
        report.skills.append(row)
    report.skills.sort(key=lambda s: s.name)
    if apply and report.transitions:
        apply_audit(root, report)
    return report


def _open_state(root: Path) -> Any:
    import sqlite3

    from skillctl.state import open_state

    try:
        return open_state(root)
    except (sqlite3.Error, OSError):
        return None  # no cache: parse everything, still a correct audit


def _key(pin: Pin, registries: dict[str, str], environ: dict[str, str] | None) -> str:
    try:
        return pin_key(pin, registries, environ)[0]
    except ResolveError:
        return f"{pin.datasource}||{pin.package}"


def _decide(row: SkillAudit, policy: RotPolicy) -> None:
    if row.expired and row.expires_at is not None:
        row.reasons.append(f"ttl expired at {format_ts(row.expires_at)}")
    for report in row.pins:
        for finding in report.blocking(policy):
            row.reasons.append(f"{report.pin.datasource} {report.pin.package} {report.pin.version}: "
                               f"{finding.message}")
    if row.status_now == "active" and row.reasons:
        row.status_after = "stale"


def transition_reason(row: SkillAudit) -> str:
    return "; ".join(row.reasons)


def commit_message(moves: list[SkillAudit]) -> str:
    lines = [f"{s.name} {s.status_now} -> {s.status_after} ({transition_reason(s)})" for s in moves]
    if len(lines) == 1:
        return f"skillctl: {lines[0]}"
    return f"skillctl: audit: {len(lines)} transitions\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"


def apply_audit(root: Path, report: AuditReport) -> list[str]:
    """Write the transitions and commit the lock. An entry that changed since the audit read it
    (a verify finished meanwhile) is left alone: newer evidence wins over this audit's."""
    from skillctl.gitops import commit_paths

    applied: list[SkillAudit] = []
    with lock_transaction(root) as lock:
        for row in report.transitions:
            entry = lock.skills.get(row.name)
            if entry is None or entry.status != row.status_now or (
                    row.expires_at is not None and entry.expires_at is not None
                    and as_utc(entry.expires_at) != row.expires_at):
                continue
            lock.skills[row.name] = entry.model_copy(update={
                "status": row.status_after, "reason": transition_reason(row), "since": report.checked_at})
            applied.append(row)
    report.applied = True
    if applied:
        report.commit = commit_paths(root, [lock_path(root)], commit_message(applied))
    return [row.name for row in applied]


def sarif(report: AuditReport, root: Path | None = None) -> dict[str, Any]:
    """Expired TTLs and pin findings as SARIF, on the SKILL.md lines that declare them."""
    from skillctl.report import SarifResult, SarifRule, sarif_log

    rules: list[SarifRule] = [SarifRule("rot/ttl-expired", "Verification TTL expired", level="error",
                                        help="Re-verify the skill: skillctl verify NAME")]
    results: list[SarifResult] = []
    for s in report.skills:
        path = s.skill_md or s.path
        if s.expired and s.expires_at is not None:
            results.append(SarifResult("rot/ttl-expired", "error" if s.status_now == "active" else "warning",
                                       f"{s.name}: ttl expired at {s.expires_at:%Y-%m-%dT%H:%M:%SZ}", path,
                                       s.ttl_line))
        for p in s.pins:
            for f in p.findings:
                if f.kind == "ok":
                    continue
                rule = f"rot/{f.kind}" + (f"-{f.level}" if f.level else "")
                level = "error" if report.policy.blocks(f) else "note" if f.kind == "unreachable" else "warning"
                rules.append(SarifRule(rule, f"Pinned dependency {f.kind}" + (f" ({f.level})" if f.level else ""),
                                       level=level, help="Update the pin and re-verify the skill."))
                results.append(SarifResult(rule, level, f"{p.pin.datasource} {p.pin.package} {p.pin.version}: "
                                           f"{f.message}", path, p.pin.line))
    return sarif_log("skillctl-audit", rules, results, root=root)
