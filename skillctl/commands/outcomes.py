"""``skillctl outcomes ingest SESSION…``: skill uses found in session files, and how they ended."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option, json_option, share_json_with_subcommands


@click.group("outcomes")
@format_option("text", "json")
@json_option
@click.pass_context
def cmd(ctx: click.Context, fmt: str, as_json: bool) -> None:
    """Outcomes of skill uses, from agent sessions."""
    share_json_with_subcommands(ctx, fmt, as_json)


@cmd.command("ingest")
@click.argument("sessions", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be recorded; record nothing.")
@format_option("text", "json")
@common_options
def ingest_cmd(sessions: tuple[Path, ...], dry_run: bool, fmt: str, root: Path, as_json: bool) -> None:
    """Record an outcome for each use of a repo skill in SESSIONS (Skill tool, skill_view, SKILL.md reads)."""
    from skillctl.synth.outcomes import ingest

    report = ingest(root, list(sessions), apply=not dry_run)
    if fmt == "json":
        echo_json(report.to_dict())
    else:
        for use in report.uses:
            click.echo(f"{use['name']}: {use['outcome']} (session {use['session']}, {use['at']})")
        for name, n in sorted(report.unknown_skills.items()):
            click.echo(f"  ignored: {name} is not a skill of this repo ({n} session(s))")
        for err in report.errors:
            click.echo(f"skillctl: {err}", err=True)
        verb = "found" if dry_run else f"recorded {report.added} new,"
        click.echo(f"{report.sessions} session(s): {verb} {len(report.uses)} use(s)"
                   + (f", {report.undecided} with an unknown outcome" if report.undecided else ""))
    if report.errors:
        raise SystemExit(2)
