"""``skillctl show NAME``: one skill's lock entry and checks."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option
from skillctl.errors import InputError


@click.command("show")
@click.argument("name")
@format_option('text', 'json')
@common_options
def cmd(name: str, fmt: str, root: Path, as_json: bool) -> None:
    """Show NAME's lifecycle state (from skills.lock) and its verification checks."""
    from skillctl.inventory import inventory, row_json
    from skillctl.repo import relpath

    row = next((r for r in inventory(root) if r.name == name), None)
    if row is None:
        raise InputError(f"no skill named {name!r} in this repo (see `skillctl list`)", path=root,
                         code="SK009")
    checks = row.skill.checks if row.skill else []
    if fmt == "json":
        echo_json({**row_json(row, root), "lock": row.entry, "checks": [
            {"id": c.id, "language": c.language, "attributes": c.attributes, "line": c.line,
             "has_expected_output": c.expected_output is not None} for c in checks]})
        return
    click.echo(f"{row.name} {row.version}  [{row.status}]")
    if row.folder:
        click.echo(f"  path: {relpath(row.folder, root)}")
    if row.error:
        click.echo(f"  error: {row.error}")
    if row.entry:
        entry = row.entry.model_dump(mode="json", exclude_none=True)
        for key, value in entry.items():
            if value in ([], {}, ""):
                continue
            click.echo(f"  {key}: {value}")
    click.echo(f"  checks ({len(checks)}):")
    for c in checks:
        attrs = " ".join(f"{k}={v}" for k, v in c.attributes.items() if k != "check")
        click.echo(f"    - {c.id or '(no id)'} [{c.language}] line {c.line}" + (f" {attrs}" if attrs else "")
                   + (" +output" if c.expected_output is not None else ""))
