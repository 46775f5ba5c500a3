"""``skillctl stats [NAMES] [--window 30d]``: per-skill uses, success rate, last failure."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option


@click.command("stats")
@click.argument("names", nargs=-1)
@click.option("--window", default=None, help="Only uses within this duration (default: outcomes.window, 30d).")
@click.option("--all-time", is_flag=True, help="Every recorded use, however old.")
@format_option("text", "json")
@common_options
def cmd(names: tuple[str, ...], window: str | None, all_time: bool, fmt: str, root: Path, as_json: bool) -> None:
    """Show how often each skill was used, how often its task succeeded, and its last failure."""
    from skillctl.config import load_config
    from skillctl.errors import InputError
    from skillctl.report import text_table
    from skillctl.synth.outcomes import judge, lock_digests, policy_from_config, skill_stats
    from skillctl.vocab import parse_duration

    policy = policy_from_config(load_config(root))
    span = policy.window
    if window is not None:
        parsed = parse_duration(window)
        if parsed is None:
            raise InputError(f"--window {window!r} is not a duration like 7d, 12h or 4w", code="SC084")
        span = parsed
    rows = skill_stats(root, None if all_time else span, names or None, digests=lock_digests(root))
    verdicts = {s.name: judge(s, policy) for s in rows}
    if fmt == "json":
        echo_json([s.to_dict() | {"failing_by_policy": verdicts[s.name]} for s in rows])
        return
    if not rows:
        click.echo("no recorded uses" + ("" if all_time else f" in the last {window or 'window'}"))
        return
    table = []
    for s in rows:
        rate = f"{s.success_rate:.0%}" if s.success_rate is not None else "-"
        last = s.last_failure
        table.append([s.name, str(s.uses), rate, last.at if last else "-",
                      (last.note or "")[:60] if last else "", "FAILING" if verdicts[s.name] else ""])
    click.echo(text_table(["skill", "uses", "success", "last failure", "note", "policy"], table))
