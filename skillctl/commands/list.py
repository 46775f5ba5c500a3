"""``skillctl list``: every skill with version, status and expiry."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option
from skillctl.model import STATUSES


@click.command("list")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice([*STATUSES, "untracked", "missing"]),
              help="Only skills with this status (repeatable).")
@format_option('text', 'json')
@common_options
def cmd(statuses: tuple[str, ...], fmt: str, root: Path, as_json: bool) -> None:
    """List the repo's skills from disk and the lock."""
    from skillctl.clock import utcnow
    from skillctl.inventory import inventory, row_json
    from skillctl.report import human_delta, text_table

    rows = [r for r in inventory(root) if not statuses or r.status in statuses]
    if fmt == "json":
        echo_json([row_json(r, root) for r in rows])
        return
    if not rows:
        click.echo("no skills" + (f" with status {', '.join(statuses)}" if statuses else ""))
        return
    now = utcnow()
    click.echo(text_table(["name", "version", "status", "expires"],
                          [[r.name, r.version, r.status, human_delta(r.expires_at, now)] for r in rows]))
