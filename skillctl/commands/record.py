"""``skillctl record NAME --outcome success|failure [--note]``: one use of a skill, on the record."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option


@click.command("record")
@click.argument("name")
@click.option("--outcome", required=True, type=click.Choice(["success", "failure"]),
              help="How the task that used the skill went.")
@click.option("--note", default=None, help="What happened (kept as evidence; shown in stats and the lock reason).")
@click.option("--session", default=None, help="The session id the use happened in, if known.")
@format_option("text", "json")
@common_options
def cmd(name: str, outcome: str, note: str | None, session: str | None, fmt: str, root: Path, as_json: bool) -> None:
    """Record how skill NAME fared in one use; schedule demotes skills whose record falls below policy."""
    from skillctl.errors import InputError
    from skillctl.synth.outcomes import _disk_names, lock_digests, record_outcome

    if name not in lock_digests(root) and name not in _disk_names(root):
        raise InputError(f"no skill named {name!r} in this repo (neither in skills.lock nor on disk)", path=root,
                         code="SC083")
    rec = record_outcome(root, name, outcome, note, "manual", session=session)
    if fmt == "json":
        echo_json(rec.to_dict())
    else:
        click.echo(f"{name}: {outcome} recorded at {rec.at}" + (f" ({rec.note})" if rec.note else ""))
