"""``skillctl mcp``: serve the repo's loadable skills to an MCP client over stdio."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import repo_option, resolve_repo


@click.command("mcp")
@repo_option
@click.pass_context
def cmd(ctx: click.Context, repo: str | None) -> None:
    """Run an MCP server on stdin/stdout: search_skills, load_skill, record_outcome.

    Register it with an agent as a stdio server whose command is `skillctl mcp --repo PATH`.
    Only loadable skills are offered; the lock is re-read on every call.
    """
    from skillctl.deliver.mcp import serve
    from skillctl.lock import read_lock

    root = resolve_repo(repo or (ctx.find_root().obj or {}).get("repo"))
    read_lock(root, missing_ok=False)  # refuse to start without a usable lock: exit 2, not a silent server
    serve(Path(root))
