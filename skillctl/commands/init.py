"""``skillctl init``: a new skills repo."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import echo_json, format_option


@click.command("init")
@click.argument("path", type=click.Path(path_type=Path), default=Path("."))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output (same as --format json).")
@format_option("text", "json")
@click.pass_context
def cmd(ctx: click.Context, path: Path, as_json: bool, fmt: str) -> None:
    """Create a skills repo at PATH (default: the cwd). Existing files are kept."""
    from skillctl.init import init_repo

    made = init_repo(path)
    if as_json or (ctx.find_root().obj or {}).get("json"):
        fmt = "json"
    if fmt == "json":
        echo_json({"path": str(path.resolve()), "created": made})
    elif made:
        click.echo(f"Initialized skills repo in {path.resolve()} ({', '.join(made)})")
    else:
        click.echo(f"{path.resolve()} is already a skills repo; nothing changed")
