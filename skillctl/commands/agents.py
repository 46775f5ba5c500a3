"""``skillctl agents``: what each agent on this machine would load now, and what of it is unverified."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option


@click.command("agents")
@click.option("--project", type=click.Path(file_okay=False), default=None,
              help="Project folder the agents would start in (default: the cwd).")
@click.option("--agent", "only", multiple=True, help="Only this agent (repeatable); default: every one found.")
@format_option('text', 'json')
@common_options
def cmd(project: str | None, only: tuple[str, ...], fmt: str, root: Path, as_json: bool) -> None:
    """For each agent found (binary on PATH or its home folder), every folder it reads and each
    skill there: loadable (managed, verified), demoted, outdated, edited since sync, unmanaged
    (never verified), duplicated. Exit 0 when agents load only verified skills, 1 otherwise."""
    from skillctl.deliver.agents import check_agents
    from skillctl.deliver.targets import AGENTS
    from skillctl.errors import InputError
    from skillctl.lock import lock_path
    from skillctl.report import text_table

    for name in only:
        if name not in AGENTS:
            raise InputError(f"unknown agent {name!r} (one of {', '.join(AGENTS)})", code="SC003")
    proj = Path(project).resolve() if project else Path.cwd()
    repo = root if lock_path(root).exists() else None
    report = check_agents(repo, project=proj, agents=list(only) or None)
    if fmt == "json":
        echo_json(report.to_json())
        raise SystemExit(report.exit_code)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if not report.agents:
        click.echo("no agents found on this machine")
    for view in report.agents:
        roots = ", ".join(r["path"] + ("" if r["exists"] else " (absent)") for r in view.roots)
        click.echo(f"{view.agent}: reads {roots}")
        if view.skills:
            rows = [[s.name, s.state + (" duplicated" if s.duplicated else ""), s.detail, s.path]
                    for s in view.skills]
            click.echo(text_table(["name", "state", "why", "folder"], rows))
        else:
            click.echo("  no skills")
        click.echo(f"  {len(view.skills) - len(view.unverified)} verified, {len(view.unverified)} not\n")
    raise SystemExit(report.exit_code)
