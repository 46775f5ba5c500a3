"""``skillctl verify``: run checks in the sandbox, show the verdicts, record them with --apply."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillctl.commands._common import common_options, echo_json, format_option
from skillctl.report import JUnitCase, junit_xml, text_table
from skillctl.verify import SkillVerdict, VerifyReport, run_verify

if TYPE_CHECKING:
    from rich.progress import TaskID
from skillctl.verify.runner import CheckResult

MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}


class PlainProgress:
    """One line per finished check: readable in CI logs and pipes."""

    def started(self, total_checks: int) -> None:
        click.echo(f"running {total_checks} check(s)", err=True)

    def check_done(self, skill: str, result: CheckResult) -> None:
        click.echo(f"{MARK[result.status]:5} {skill}/{result.id} ({result.duration:.2f}s)"
                   + ("" if result.passed else f": {result.reason}"), err=True)


class RichProgress:
    """A progress bar on a terminal (rich is imported only when one is shown)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("[bold]verify"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.description}"), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.task: TaskID | None = None

    def started(self, total_checks: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("", total=total_checks)

    def check_done(self, skill: str, result: CheckResult) -> None:
        if not result.passed:
            self.bar.console.print(f"[red]{MARK[result.status]}[/] {skill}/{result.id}: {result.reason}")
        if self.task is not None:
            self.bar.update(self.task, advance=1, description=f"{skill}/{result.id}")

    def close(self) -> None:
        self.bar.stop()


@click.command("verify")
@click.argument("skills", nargs=-1)
@click.option("--force", is_flag=True, help="Re-run checks even when the cached verdict is still valid.")
@click.option("--apply", "apply_", is_flag=True, help="Write the new verdicts to skills.lock and commit it.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Checks to run in parallel.")
@click.option("--changed", is_flag=True, help="Only skills whose folders differ from --base (for PRs).")
@click.option("--base", default="HEAD", show_default=True, help="Git ref that --changed compares with.")
@click.option("--shard", metavar="I/N", default=None, help="Only the I-th of N deterministic slices (CI matrix).")
@click.option("--require-sandbox/--allow-fallback", "require_sandbox", default=None,
              help="Refuse to run without bwrap (default: skillctl.yaml require_sandbox).")
@click.option("--sign-key", "sign_key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --apply: sign each lock entry with this SSH private key (default: $SKILLCTL_SIGNING_KEY).")
@click.option("--junit", "junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write JUnit XML (one testcase per check) to FILE.")
@format_option('text', 'json', 'junit')
@common_options
def cmd(skills: tuple[str, ...], force: bool, apply_: bool, jobs: int, changed: bool, base: str,
        shard: str | None, require_sandbox: bool | None, sign_key: Path | None, junit: Path | None, fmt: str,
        root: Path,
        as_json: bool) -> None:
    """Run the checks of all (or the named) skills in a sandbox and compute lock transitions.

    Without --apply nothing is written: the transitions are shown as a dry run.
    Exit 0 when every verified skill passed, 1 when a check failed or a skill was blocked.
    """
    progress = None
    if fmt == "text":
        progress = RichProgress() if sys.stderr.isatty() else PlainProgress()
    try:
        report = run_verify(root, list(skills) or None, force=force, apply=apply_, jobs=jobs,
                            changed_base=base if changed else None, shard=shard, sign_key=sign_key,
                            require_sandbox=require_sandbox, progress=progress)
    finally:
        if isinstance(progress, RichProgress):
            progress.close()
    if junit is not None:
        junit.write_text(junit_xml("skillctl verify", junit_cases(report)), encoding="utf-8")
    if fmt == "json":
        echo_json(report.model_dump(mode="json"))
    elif fmt == "junit":
        click.echo(junit_xml("skillctl verify", junit_cases(report)), nl=False)
    else:
        click.echo(render(report, apply_))
    raise SystemExit(report.exit_code)


def render(report: VerifyReport, applied: bool) -> str:
    """Summary table, failure details, then the transitions (done or proposed)."""
    if not report.skills:
        return "no skills selected"
    rows = [[v.name, v.outcome, _checks(v), _status(v), v.reason[:90]] for v in report.skills]
    out = [text_table(["skill", "result", "checks", "status", "reason"], rows)]
    for v in report.skills:
        for r in v.checks:
            if not r.passed:
                out.append(f"\n{v.name}/{r.id} (SKILL.md:{r.line}): {r.reason}")
                tail = (r.stderr_tail or r.stdout_tail).strip().splitlines()[-5:]
                out.extend(f"  | {line}" for line in tail)
    isolation = report.isolation + (f" ({report.isolation_reason})" if report.isolation_reason else "")
    out.append(f"\nsandbox: {isolation}")
    moves = report.transitions
    if applied:
        where = f"committed {report.commit}" if report.commit else "lock written (not committed)"
        out.append(f"applied: {where}" if report.applied else "applied: nothing to record")
        out.extend(f"  {m}" for m in moves)
    elif moves:
        out.append("dry run, would apply (re-run with --apply):")
        out.extend(f"  {m}" for m in moves)
    return "\n".join(out)


def _checks(v: SkillVerdict) -> str:
    if not v.checks:
        return "-"
    return f"{sum(r.passed for r in v.checks)}/{len(v.checks)}"


def _status(v: SkillVerdict) -> str:
    old, new = v.old_status or "untracked", v.new_status or v.old_status or "untracked"
    return old if old == new else f"{old} -> {new}"


def junit_cases(report: VerifyReport) -> list[JUnitCase]:
    """One testcase per check; a skill judged without running checks gets one ``verify`` case."""
    cases: list[JUnitCase] = []
    for v in report.skills:
        if v.checks:
            for r in v.checks:
                failure = None if r.passed else f"{r.reason}\n{r.stderr_tail}".strip()
                cases.append(JUnitCase(classname=v.name, name=r.id, time=r.duration, failure=failure,
                                       output=r.stdout_tail))
        elif v.outcome in ("cached", "skipped"):
            cases.append(JUnitCase(classname=v.name, name="verify", time=0.0, skipped=v.reason))
        else:
            cases.append(JUnitCase(classname=v.name, name="verify", time=0.0, failure=v.reason))
    return cases
