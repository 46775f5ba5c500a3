"""``skillctl import SOURCE``: existing skill folders become drafts under management."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option


@click.command("import")
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--dest", default="skills", show_default=True, help="Folder inside the repo to import into.")
@click.option("--tier", default=None, help="Trust tier to grant (default: what the source earns).")
@click.option("--annotate", is_flag=True, help="Add metadata.skillctl (origin, trust) to each SKILL.md.")
@click.option("--apply", is_flag=True, help="Copy the skills and record them in skills.lock (default: dry run).")
@format_option('text', 'json')
@common_options
def cmd(source: str, dest: str, tier: str | None, annotate: bool, apply: bool, fmt: str, root: Path,
        as_json: bool) -> None:
    """Import a Hermes skills folder, .claude/skills, .agents/skills, a ClawHub/OpenClaw
    install, a skills-lock.json project, or any folder of skill folders. Files are copied byte
    for byte; each skill starts as draft (quarantined on a blocking scan finding) with origin
    imported and the source's trust tier. Exit 0 all imported, 1 some skipped or quarantined."""
    from skillctl.deliver.importer import run_import
    from skillctl.report import text_table

    report = run_import(root, Path(source), dest=dest, tier=tier, annotate_files=annotate, apply=apply)
    if fmt == "json":
        echo_json(report.to_json())
        raise SystemExit(report.exit_code)
    rows = [[s.name, s.outcome, s.tier, s.reason + "".join(f"; {n}" for n in s.notes)] for s in report.skills]
    if rows:
        click.echo(text_table(["name", "outcome", "tier", "details"], rows))
    kinds = ("imported", "would-import", "quarantined", "would-quarantine", "skipped")
    counts = ", ".join(f"{report.count(k)} {k}" for k in kinds if report.count(k))
    click.echo(f"{report.kind} {report.source}: {counts or 'no skills found'}"
               + (f"; committed {report.commit}" if report.commit else "")
               + ("" if apply else " (dry run: --apply to import)"), err=True)
    raise SystemExit(report.exit_code)
