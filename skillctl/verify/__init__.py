"""``verify``: run skills' checks in the sandbox and turn the evidence into lock transitions.

The library entry point is ``run_verify``; the CLI (``commands/verify.py``) and the scheduler
call it. The flow reads straight through: select skills -> skip what the cache vouches for ->
refuse what the scanner blocks -> run checks (in parallel, failures retried) -> compute each
new lock entry (``transitions``) -> with ``apply``, write the lock atomically and commit only it.
Nothing is executed before the scanner has seen it.
"""

from __future__ import annotations

import functools
import platform
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, Field

from skillctl import sandbox
from skillctl.clock import as_utc, utcnow
from skillctl.config import load_config
from skillctl.errors import InputError, SandboxError
from skillctl.lock import lock_path, lock_transaction, read_lock, skill_digest
from skillctl.lockmodel import Lock, LockEntry
from skillctl.model import Check, Skill, parse_ttl
from skillctl.transitions import (
    SUSPECT,
    Evidence,
    Outcome,
    after_block,
    after_invalid,
    after_verification,
    describe,
)
from skillctl.verify.pool import run_parallel, spread
from skillctl.verify.runner import CheckResult, run_checks
from skillctl.verify.select import Candidate, select

if TYPE_CHECKING:
    from skillctl.config import RepoConfig
    from skillctl.scan import Scanner
    from skillctl.signing import Signer

Outcome_ = Literal["passed", "flaky", "failed", "blocked", "cached", "skipped", "error"]


class SkillVerdict(BaseModel):
    """One skill's result in this run, and the lock entry it leads to (None: lock untouched)."""

    name: str
    path: str
    outcome: Outcome_
    reason: str
    old_status: str | None = None
    new_status: str | None = None
    transition: str | None = None
    checks: list[CheckResult] = Field(default_factory=list)
    retried: list[str] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list)
    entry: LockEntry | None = None


class VerifyReport(BaseModel):
    isolation: str
    isolation_reason: str = ""
    skills: list[SkillVerdict] = Field(default_factory=list)
    applied: bool = False
    commit: str | None = None

    @property
    def failed(self) -> bool:
        return any(v.outcome in ("failed", "blocked", "error") for v in self.skills)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    @property
    def transitions(self) -> list[str]:
        return [v.transition for v in self.skills if v.transition]


class Progress(Protocol):
    """What a progress display needs; the CLI passes a rich or plain-line implementation."""

    def started(self, total_checks: int) -> None: ...

    def check_done(self, skill: str, result: CheckResult) -> None: ...


@dataclass
class _Job:
    """A skill whose checks will run, with everything needed to judge it afterwards."""

    cand: Candidate
    skill: Skill
    entry: LockEntry | None
    digest: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    problem: str | None = None
    tier: str | None = None


def environment_fingerprint(isolation: str | None = None) -> dict[str, str]:
    """What must be unchanged for a cached verdict to stand: interpreter, platform, sandbox.

    ``sandbox`` names the backend *and* the uid checks ran as (``bwrap as uid 65534``): a
    verdict earned with root's uid is not the same evidence as one earned without it.
    """
    return {
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "sandbox": isolation or sandbox.isolation_label(),
    }


def is_cached(entry: LockEntry | None, digest: str, env: dict[str, str], now: datetime,
              tier: str | None = None) -> bool:
    """Active, same bytes, same environment, same trust tier, not expired, and no failure pending."""
    return bool(
        entry is not None
        and (tier is None or entry.tier == tier)
        and entry.status == "active"
        and entry.digest == digest
        and entry.env == env
        and entry.expires_at is not None
        and as_utc(entry.expires_at) > now
        and not any(n.startswith(SUSPECT) for n in entry.notes)
    )


def run_verify(
    root: Path,
    names: Sequence[str] | None = None,
    *,
    force: bool = False,
    apply: bool = False,
    jobs: int = 1,
    changed_base: str | None = None,
    shard: str | tuple[int, int] | None = None,
    require_sandbox: bool | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    sign_key: Path | str | None = None,
) -> VerifyReport:
    """Verify the selected skills of the repo at *root*; with *apply*, record and commit verdicts.

    Raises LockError for a corrupt lock, SandboxError when a sandbox is required but missing,
    InputError/GitError for bad selections. Per-skill problems become verdicts, not exceptions.
    """
    root = Path(root).resolve()
    now = as_utc(now) if now else utcnow()
    config = load_config(root)
    lock = read_lock(root)
    signer = None
    if apply:  # a key that cannot sign is an error before anything runs, not after
        from skillctl.signing import signer_for

        signer = signer_for(root, config, sign_key)
    required = config.require_sandbox if require_sandbox is None else require_sandbox
    isolation, why = sandbox.available_isolation()
    if required and isolation != "bwrap":
        raise SandboxError(f"require_sandbox is set but {why}", path=config.path)
    env = environment_fingerprint()
    report = VerifyReport(isolation=isolation, isolation_reason=why)
    pending: list[_Job] = []
    candidates = select(root, lock, names, changed_base=changed_base, shard=shard)
    scanner = None
    for cand in candidates:
        try:
            digest = skill_digest(cand.folder, root=cand.root)
        except InputError as exc:
            report.skills.append(SkillVerdict(name=cand.name, path=cand.rel, outcome="error", reason=str(exc)))
            continue
        entry = lock.skills.get(cand.name)
        if scanner is None:  # look-alike names are judged against the lock's names, whatever the selection
            scanner = _scanner(config, root, lock)
        if entry is not None and not force and is_cached(entry, digest, env, now, _tier_by_path(scanner, cand)):
            report.skills.append(_cached(cand, entry))
            continue
        verdict, job = _prepare(cand, lock, digest, scanner, now)
        if verdict is not None:
            report.skills.append(verdict)
        if job is not None:
            pending.append(job)
    if pending:
        _execute(pending, root, config, required, max(1, jobs), progress)
        commit = _head(root)
        ttl_default = parse_ttl(config.ttl)
        for job in pending:
            report.skills.append(_judge(job, env, commit, ttl_default, now))
    report.skills.sort(key=lambda v: v.name)
    _refuse_shared_names(report)
    if apply:
        _apply(root, report, lock, signer)
    return report


def _refuse_shared_names(report: VerifyReport) -> None:
    """Two folders claiming one name would overwrite each other's lock entry: record neither."""
    paths: dict[str, list[str]] = {}
    for v in report.skills:
        paths.setdefault(v.name, []).append(v.path)
    for v in report.skills:
        if len(paths[v.name]) > 1:
            v.outcome, v.entry, v.transition, v.new_status = "error", None, None, v.old_status
            v.reason = f"{len(paths[v.name])} folders claim the name {v.name}: {', '.join(paths[v.name])}"


def _cached(cand: Candidate, entry: LockEntry) -> SkillVerdict:
    until = entry.expires_at.strftime("%Y-%m-%d") if entry.expires_at else "?"
    return SkillVerdict(name=cand.name, path=cand.rel, outcome="cached", old_status=entry.status,
                        new_status=entry.status, reason=f"unchanged since last verification, trusted until {until}")


def _scanner(config: RepoConfig, root: Path, lock: Lock) -> Scanner:
    from skillctl.scan import Scanner

    return Scanner.from_config(config, root=root, lock=lock)


def _tier_by_path(scanner: Scanner, cand: Candidate) -> str | None:
    """The tier a cached verdict must still match, judged without parsing (None: parse to know).

    Parsing every cached skill would cost what the cache saves, so only the repo's grant is
    compared here: a cached entry verified at a higher tier than the repo now grants is re-run.
    A skill can only lower its tier, and lowering changes its bytes, hence its digest.
    """
    entry = scanner.lock.skills.get(cand.name) if scanner.lock is not None else None
    if entry is None or entry.tier is None:
        return None
    from skillctl.policy import effective_tier, rank

    granted = effective_tier(scanner.policy, None, rel=cand.rel, entry=entry, digest=entry.digest).tier
    return entry.tier if rank(entry.tier) <= rank(granted) else granted


def _prepare(cand: Candidate, lock: Lock, digest: str, scanner: Scanner,
             now: datetime) -> tuple[SkillVerdict | None, _Job | None]:
    """Parse, scan and sort out what must not run. Returns a final verdict or a job."""
    from skillctl.parse import read_skill
    from skillctl.policy import CAPABILITY_RULE, approval_covers, capability_problem

    def verdict(outcome: Outcome_, reason: str, entry: LockEntry | None = None, **kw) -> SkillVerdict:
        old = lock.skills.get(cand.name)
        current = entry or old
        return SkillVerdict(
            name=cand.name, path=cand.rel, outcome=outcome, reason=reason, entry=entry,
            old_status=old.status if old else None, new_status=current.status if current else None,
            transition=describe(cand.name, old, entry) if entry else None, **kw,
        )

    try:
        skill = read_skill(cand.folder, root=cand.root)
    except InputError as exc:
        return verdict("error", str(exc)), None
    if skill.name != cand.name:  # the frontmatter names another skill than the folder
        cand = Candidate(name=skill.name, folder=cand.folder, rel=cand.rel, root=cand.root)
    entry = lock.skills.get(cand.name)
    if entry is not None and entry.status == "retired":
        return verdict("skipped", "retired"), None
    invalid = _validate_errors(skill)
    if invalid:  # never run, never active: every validate error blocks activation
        new = after_invalid(entry, digest=digest, version=_version(skill), path=cand.rel, errors=invalid, now=now)
        return verdict("failed", new.reason, new, findings=new.findings), None
    approved = approval_covers(entry, digest)
    tier = scanner.tier_of(skill).tier
    refused = [p for c in skill.checks if (p := capability_problem(c, tier, entry, digest))]
    blocking = sorted({f.rule_id for f in scanner.scan(skill) if f.blocking and not f.suppressed})
    if refused:  # no approval of other findings lifts this one: only an explicit allow does
        blocking = sorted({*blocking, CAPABILITY_RULE})
    if blocking and (not approved or refused):
        new = after_block(entry, digest=digest, version=_version(skill), path=cand.rel, findings=blocking, now=now)
        if refused:
            new = new.model_copy(update={"reason": f"{refused[0]} ({new.reason})"})
        return verdict("blocked", new.reason, new, findings=blocking), None
    if entry is not None and entry.status == "quarantined" and not approved:
        return verdict("blocked", "quarantined: needs `skillctl approve` before it runs again"), None
    # duplicate check ids are a validate error (SK221), so they never reach this point
    return None, _Job(cand=cand, skill=skill, entry=entry, digest=digest, tier=tier)


def _validate_errors(skill: Skill) -> list[str]:
    """``SK201 line 7: ttl ...`` for each validate error (lenient mode: what real clients accept)."""
    from skillctl.model import Severity
    from skillctl.validate import validate_skill

    return [f"{d.code} line {d.line}: {d.message}" for d in validate_skill(skill) if d.severity == Severity.error]


def _version(skill: Skill) -> str | None:
    return skill.lifecycle.version if skill.lifecycle else None


def _hidden_git(root: Path) -> tuple[Path, ...]:
    """The nearest .git above the skills: history and credentials are not a check's business."""
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            return (candidate / ".git",)
    return ()


def _execute(pending: list[_Job], root: Path, config: RepoConfig, required: bool, jobs: int,
             progress: Progress | None) -> None:
    """Run each job's checks in one sandbox (jobs in parallel); failures get ``config.retries`` more tries.

    The pool's unit is a skill, not a check: starting a sandbox costs more than a trivial
    check, and checks of one skill may share one (never checks of two skills). A skill with
    most of the checks is spread over several workers (``pool.spread``).
    """
    hide = _hidden_git(root)
    work = [(job, list(job.skill.checks)) for job in pending if job.problem is None and job.skill.checks]
    work_order = list(work)
    if progress:
        progress.started(sum(len(checks) for _job, checks in work))
    lock = threading.Lock()

    def batch(item: tuple[_Job, list[Check]], first: bool) -> list[CheckResult]:
        job, checks = item

        def seen(result: CheckResult) -> None:
            if first and progress:
                with lock:
                    progress.check_done(job.cand.name, result)

        try:
            return run_checks(checks, job.cand.folder, default_timeout=config.timeout, require_sandbox=required,
                              hide=hide, on_result=seen)
        except InputError as exc:  # the folder vanished mid-run: judged below, not a crash
            results = [CheckResult(id=c.id or f"line-{c.line}", status="error", reason=exc.message, line=c.line)
                       for c in checks]
            for r in results:
                seen(r)
            return results

    for attempt in range(1 + max(0, config.retries)):
        failed: list[tuple[_Job, list[Check]]] = []

        def record(item: tuple[_Job, list[Check]], results: list[CheckResult], first: bool = attempt == 0,
                   failed: list[tuple[_Job, list[Check]]] = failed) -> None:
            job, checks = item
            again = []
            for check, result in zip(checks, results, strict=True):
                if first:
                    job.outcomes[result.id] = Outcome(first=result, last=result)
                else:
                    job.outcomes[result.id].last = result
                if result.status == "fail":
                    again.append(check)
            if again:
                failed.append((job, again))

        first = attempt == 0
        run_parallel(spread(work, jobs), functools.partial(_with_first, batch, first), jobs, record)
        work = failed
        if not work:
            break
    for job, _checks in work_order:  # a skill split over sandboxes reports its checks in file order
        order = {c.id or f"line-{c.line}": None for c in job.skill.checks}
        job.outcomes = {**{k: job.outcomes[k] for k in order if k in job.outcomes}, **job.outcomes}


def _head(root: Path) -> str | None:
    from skillctl.gitops import head_commit

    return head_commit(root)


def _judge(job: _Job, env: dict[str, str], commit: str | None, ttl_default: timedelta | None,
           now: datetime) -> SkillVerdict:
    """Evidence -> new entry; a folder that vanished or changed mid-run leaves the lock alone."""
    cand, old = job.cand, job.entry
    results = [o.last for o in job.outcomes.values()]
    base: dict[str, Any] = {"name": cand.name, "path": cand.rel, "checks": results,
                            "old_status": old.status if old else None}
    try:
        after = skill_digest(cand.folder, root=cand.root)
    except InputError:
        after = None
    if after != job.digest:
        what = "was removed" if after is None else "changed"
        return SkillVerdict(**base, outcome="error", reason=f"skill folder {what} during verification; lock untouched")
    ttl = (job.skill.lifecycle.ttl_delta() if job.skill.lifecycle else None) or ttl_default
    if ttl is None:  # skillctl.yaml's schema guarantees a valid default ttl
        raise InputError("no valid ttl for the skill and no default in skillctl.yaml", path=cand.folder, code="SK201")
    evidence = Evidence(digest=job.digest, version=_version(job.skill), path=cand.rel, env=env, commit=commit,
                        ttl=ttl, outcomes=list(job.outcomes.values()), problem=job.problem)
    entry = after_verification(old, evidence, now).model_copy(update={"tier": job.tier})
    verdicts = [o.verdict for o in evidence.outcomes]
    failed = job.problem is not None or not verdicts or any(v in ("fail", "error") for v in verdicts)
    outcome: Outcome_ = "failed" if failed else "flaky" if "flaky" in verdicts else "passed"
    return SkillVerdict(
        **base, outcome=outcome, reason=entry.reason, new_status=entry.status, entry=entry,
        transition=describe(cand.name, old, entry),
        retried=[o.id for o in evidence.outcomes if o.first is not o.last],
    )


def commit_message(report: VerifyReport) -> str:
    """One transition: the transition itself. Several: a count, then one line each."""
    moves = report.transitions
    if len(moves) == 1:
        return f"skillctl: {moves[0]}"
    touched = [v for v in report.skills if v.entry is not None]
    if not moves:
        return f"skillctl: re-verified {len(touched)} skill(s), no status change"
    body = "\n".join(f"- {m}" for m in moves)
    return f"skillctl: verify: {len(moves)} transitions\n\n{body}\n"


def _apply(root: Path, report: VerifyReport, seen: Lock, signer: Signer | None = None) -> None:
    """Write the new entries under the lock guard (atomic: old file or new file) and commit it.

    Verdicts were computed from the lock as it was when this run started (*seen*). An entry
    that someone else changed meanwhile (an approval, an audit, another verify) is not
    overwritten: their decision was made on evidence this run did not see. It is reported
    instead, and the next run judges it afresh.
    """
    from skillctl.gitops import commit_paths

    touched = [v for v in report.skills if v.entry is not None]
    if not touched:
        return
    for v in touched:  # an old signature never vouches for a new verdict
        v.entry = v.entry.model_copy(update={"signed_by": None, "signature": None})  # type: ignore[union-attr]
        if signer is not None:
            v.entry = signer.sign(v.name, v.entry)
    with lock_transaction(root) as lock:
        for v in touched:
            if lock.skills.get(v.name) != seen.skills.get(v.name):
                v.entry, v.transition = None, None
                v.reason = f"not recorded: its lock entry changed while verifying ({v.reason})"
                continue
            lock.skills[v.name] = v.entry  # type: ignore[assignment]
    if not any(v.entry is not None for v in touched):
        return
    report.applied = True
    report.commit = commit_paths(root, [lock_path(root)], commit_message(report))


def _with_first(batch: Callable[[Any, bool], Any], first: bool, item: Any) -> Any:
    """``batch(item, first)`` with *first* bound now: a lambda in the retry loop would see the last value."""
    return batch(item, first)
