"""``skillctl load``: the skills an agent may load now, and with --explain why others may not."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from skillctl.commands._common import common_options, echo_json, format_option

if TYPE_CHECKING:
    from skillctl.loader import LoadedSkill


@click.command("load")
@click.option("--explain", is_flag=True, help="Also list every rejected skill with the reason.")
@format_option('text', 'json')
@common_options
def cmd(explain: bool, fmt: str, root: Path, as_json: bool) -> None:
    """List loadable skills: active, unchanged since verified, unexpired, no blocking findings.

    A missing or corrupt skills.lock loads nothing and exits 2.
    """
    from skillctl.loader import explain_load
    from skillctl.report import human_delta, text_table

    report = explain_load(root)
    if fmt == "json":
        data = {"loaded": [_loaded_json(s) for s in report.loaded]}
        if explain:
            data["rejected"] = [{"name": r.name, "path": r.path, "reason": r.reason} for r in report.rejected]
        echo_json(data)
        return
    if report.loaded:
        from skillctl.clock import utcnow

        now = utcnow()
        click.echo(text_table(["name", "version", "expires", "location"],
                              [[s.name, s.version or "-", human_delta(s.expires_at, now), str(s.location)]
                               for s in report.loaded]))
    else:
        click.echo("no loadable skills")
    if explain and report.rejected:
        click.echo("\nrejected:")
        click.echo(text_table(["name", "reason"], [[r.name, r.reason] for r in report.rejected]))


def _loaded_json(skill: LoadedSkill) -> dict[str, Any]:
    return {"name": skill.name, "description": skill.description, "location": str(skill.location),
            "version": skill.version, "expires_at": skill.expires_at, "digest": skill.digest}
