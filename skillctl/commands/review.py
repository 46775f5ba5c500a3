"""``skillctl review``: a skill diff between two git refs, for a PR comment, CI annotations or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option

FAIL_LEVELS = {"never": (), "danger": ("danger",), "warning": ("danger", "warning")}


@click.command("review")
@click.option("--base", "base", required=True, metavar="REF",
              help="The commit the change is reviewed against (e.g. origin/main or a PR's base sha).")
@click.option("--head", "head", default="HEAD", show_default=True, metavar="REF", help="The changed commit.")
@format_option("markdown", "json", "github", default="markdown")
@click.option("--fail-on", "fail_on", type=click.Choice(list(FAIL_LEVELS)), default="never", show_default=True,
              help="Exit 1 when an item of this level (or worse) is found.")
@common_options
def cmd(base: str, head: str, fmt: str, fail_on: str, root: Path, as_json: bool) -> None:
    """Review what a diff changes in skills' behaviour and trust.

    Reads both refs from git without touching the work tree: version and TTL changes, pins,
    removed or weakened verification checks, new shell commands, hosts and allowed-tools, new
    scan findings and lock transitions. Exit 0 (or 1 with --fail-on), 2 for an unknown ref.
    """
    from skillctl.review import review
    from skillctl.review.render import github, markdown

    result = review(root, base, head)
    if fmt == "json":
        echo_json(result.to_dict())
    elif fmt == "github":
        click.echo(github(result), nl=False)
    else:
        click.echo(markdown(result), nl=False)
    levels = FAIL_LEVELS[fail_on]
    raise SystemExit(1 if any(item.level in levels for _, item in result.attention()) else 0)
