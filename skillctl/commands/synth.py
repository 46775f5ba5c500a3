"""``skillctl synth SESSION… [--into REPO]``: draft skills from agent sessions, reviewed not trusted.

The library (``skillctl.synth.synthesize``) does the work and owns every write; this module
parses options and prints one line per session. Exit 0 when every session became a draft or a
proposal, 1 when any was refused or rejected (with why), 2 when skillctl could not do its job
(unreadable session, no model configured, model server failing — nothing written then).
"""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option


@click.command("synth")
@click.argument("sessions", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "into", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Skills repo to write into (default: --repo).")
@click.option("--offline", is_flag=True, help="Deterministic draft from the session's steps; no model.")
@click.option("--min-calls", type=click.IntRange(1, 10_000), default=None,
              help="Fewest tool calls worth a skill (default 5, or synth.min_calls).")
@click.option("--name", default=None, help="Skill name for the draft (one session only).")
@click.option("--branch", is_flag=True, help="Also commit a proposal on a new git branch, ready for a PR.")
@click.option("--dry-run", is_flag=True, help="Draft and check, print the SKILL.md, write nothing.")
@format_option("text", "json")
@common_options
def cmd(sessions: tuple[Path, ...], into: Path | None, offline: bool, min_calls: int | None, name: str | None,
        branch: bool, dry_run: bool, fmt: str, root: Path, as_json: bool) -> None:
    """Draft a skill from each tool-heavy, successful SESSION (or propose a change to an existing one)."""
    from skillctl.commands._common import resolve_repo
    from skillctl.synth.synthesize import synthesize

    target = resolve_repo(str(into)) if into is not None else root
    results = synthesize(target, list(sessions), offline=offline, min_calls=min_calls, name=name, branch=branch,
                         dry_run=dry_run)
    if fmt == "json":
        echo_json([r.to_dict() | ({"text": r.text} if dry_run else {}) for r in results])
    else:
        for r in results:
            head = f"{r.path}: session {r.session} ({r.format}): {r.status}"
            detail = r.written or r.name or ""
            click.echo(f"{head}{' ' + detail if detail else ''} — {r.reason}")
            for finding in r.findings:
                click.echo(f"  - {finding}")
            if r.redactions != "none":
                click.echo(f"  redacted: {r.redactions}")
            for warning in r.warnings:
                click.echo(f"  warning: {warning}", err=True)
            if dry_run and r.text:
                click.echo(r.text)
    if any(r.status in ("refused", "rejected") for r in results):
        raise SystemExit(1)
