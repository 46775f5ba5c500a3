"""``skillctl schedule``: re-verify what is due and audit, once (cron/CI) or every N (daemon)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillctl.commands._common import common_options, echo_json, format_option

if TYPE_CHECKING:
    from skillctl.rot.schedule import ScheduleReport


@click.command("schedule")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or a CI schedule).")
@click.option("--every", "every", metavar="DURATION", default=None,
              help="Stay in the foreground and run a pass every DURATION (30m, 1h, 1d).")
@click.option("--lead", "lead", metavar="DURATION", default="1d", show_default=True,
              help="Re-verify skills whose TTL expires within this lead time.")
@click.option("--dry-run", is_flag=True,
              help="Run the whole pass on a scratch copy and show the resulting statuses; write nothing.")
@click.option("--list-due", is_flag=True, help="Only list what is due; run nothing.")
@click.option("--offline", is_flag=True, help="Audit pins from the registry cache only.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Checks to run in parallel.")
@format_option('text', 'json')
@common_options
def cmd(once: bool, every: str | None, lead: str, dry_run: bool, list_due: bool, offline: bool, jobs: int,
        fmt: str, root: Path, as_json: bool) -> None:
    """Verify what is due (never verified, changed, expired or expiring), audit every skill,
    write the transitions to skills.lock and commit it. Missed runs are caught up: what is due
    comes from the lock, not from the last run."""
    from skillctl.clock import utcnow
    from skillctl.errors import InputError
    from skillctl.rot.schedule import dry_run_once, due_skills, parse_interval, run_every, run_once

    if once == (every is not None):
        raise InputError("choose exactly one of --once or --every DURATION", code="SC003")
    if dry_run and every is not None:
        raise InputError("--dry-run makes one pass: use it with --once", code="SC003")
    lead_time = parse_interval(lead)
    if list_due:
        due = due_skills(root, utcnow(), lead_time)
        if fmt == "json":
            echo_json({"due": [d.__dict__ for d in due]})
        else:
            for d in due:
                click.echo(f"{d.name:<28} {d.reason}")
            click.echo(f"{len(due)} skill(s) due", err=True)
        return

    def show(report: ScheduleReport) -> None:
        if fmt == "json":
            echo_json(report.to_json())
            return
        stamp = report.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if report.skipped:
            click.echo(f"{stamp} skipped: {report.skipped}")
            return
        click.echo(f"{stamp} {len(report.due)} due" + "".join(f"\n  {d.name}: {d.reason}" for d in report.due))
        if report.verify is not None:
            for v in report.verify.skills:
                click.echo(f"  verify {v.name}: {v.outcome} ({v.reason})")
        if report.audit is not None and report.dry_run:
            from skillctl.commands.audit import render

            click.echo("")
            render(report.audit, title="status after this pass", footer=False)  # every skill, and why
            click.echo("dry run: the pass ran on a scratch copy; nothing was written", err=True)
            return
        if report.audit is not None:
            for s in report.audit.transitions:
                click.echo(f"  audit {s.name}: {s.status_now} -> {s.status_after} ({'; '.join(s.reasons)})")
        click.echo(f"  committed: {', '.join(report.commits) or 'nothing to commit'}")
        sys.stdout.flush()  # a daemon's log must not sit in a pipe buffer

    if once:
        run = dry_run_once if dry_run else run_once
        report = run(root, lead=lead_time, jobs=jobs, offline=offline)
        show(report)
        raise SystemExit(report.exit_code)
    run_every(root, parse_interval(every or ""), on_report=show, lead=lead_time, jobs=jobs, offline=offline)
