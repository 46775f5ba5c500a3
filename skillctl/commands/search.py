"""``skillctl search QUERY``: full-text search over the repo's skills, loadable ones by default."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option

DESCRIPTION_WIDTH = 70


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="At most this many results.")
@click.option("--all", "include_all", is_flag=True,
              help="Every matching skill with its status and why it is not loadable.")
@format_option("text", "json")
@common_options
def cmd(query: tuple[str, ...], limit: int, include_all: bool, fmt: str, root: Path, as_json: bool) -> None:
    """Find skills by words in their name, description and body (name and description rank first).

    QUERY is SQLite FTS5 syntax (words, "phrases", OR, NOT, prefix*); text that is not valid
    syntax is searched as one phrase. A missing or corrupt skills.lock exits 2.
    """
    from skillctl.deliver.search import search

    text = " ".join(query)
    hits = search(root, text, limit, include_all=include_all)
    if fmt == "json":
        echo_json({"query": text, "all": include_all, "results": [h.to_json() for h in hits]})
        return
    if not hits:
        click.echo("no matching skills" if include_all else "no matching loadable skills")
        return
    from skillctl.report import text_table

    if include_all:
        click.echo(text_table(["name", "status", "loadable", "why not"],
                              [[h.name, h.status, "yes" if h.loadable else "no", h.reason] for h in hits]))
    else:
        click.echo(text_table(["name", "description"], [[h.name, _short(h.description)] for h in hits]))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_WIDTH else text[:DESCRIPTION_WIDTH - 1] + "…"
