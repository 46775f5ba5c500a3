"""``skillctl approve NAME --reason ...``: a human lifts a quarantine, on the record (``gates.approve``)."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option


@click.command("approve")
@click.argument("name")
@click.option("--reason", required=True, help="Why the findings are acceptable (recorded in the lock).")
@click.option("--by", "by", default=None, help="Who approves (default: git user.name <user.email>, else $USER).")
@format_option('text', 'json')
@common_options
def cmd(name: str, reason: str, by: str | None, fmt: str, root: Path, as_json: bool) -> None:
    """Lift NAME's quarantine after human review, recording who, when, why and the digest."""
    from skillctl.clock import format_ts
    from skillctl.gates import approve

    done = approve(root, name, reason, by=by)
    if fmt == "json":
        echo_json({"name": name, "status": done.status, "approval": done.approval, "commit": done.commit})
        return
    a = done.approval
    click.echo(f"{name}: quarantined -> {done.status} (approved by {a.by} at {format_ts(a.at)}; "
               f"digest {(a.digest or '')[:19]}…)")
    click.echo("run `skillctl verify` before agents can load it again")
