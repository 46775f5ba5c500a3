"""``skillctl proposals list|show|apply|reject|capture``: changes to skills wait for a human."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option, json_option, share_json_with_subcommands


@click.group("proposals")
@format_option("text", "json")
@json_option
@click.pass_context
def cmd(ctx: click.Context, fmt: str, as_json: bool) -> None:
    """Proposed changes to existing skills (from synth, or captured in-place edits)."""
    share_json_with_subcommands(ctx, fmt, as_json)


@cmd.command("list")
@click.option("--status", type=click.Choice(["open", "applied", "rejected"]), default=None)
@format_option("text", "json")
@common_options
def list_cmd(status: str | None, fmt: str, root: Path, as_json: bool) -> None:
    """List proposals, newest last."""
    from skillctl.report import text_table
    from skillctl.synth.proposals import list_proposals

    rows = list_proposals(root, status)
    if fmt == "json":
        echo_json([p.to_dict() for p in rows])
    elif not rows:
        click.echo("no proposals")
    else:
        click.echo(text_table(["id", "skill", "kind", "status", "reason"],
                              [[p.id, p.skill, p.kind, p.status, p.reason[:60]] for p in rows]))


@cmd.command("show")
@click.argument("proposal_id")
@format_option("text", "json")
@common_options
def show_cmd(proposal_id: str, fmt: str, root: Path, as_json: bool) -> None:
    """Show a proposal: why, the evidence, and the unified diff."""
    from skillctl.synth.proposals import diff_text, load

    p = load(root, proposal_id)
    diff = diff_text(root, proposal_id)
    if fmt == "json":
        echo_json(p.to_dict() | {"diff": diff})
        return
    click.echo(f"{p.id}: {p.kind} change to {p.skill} ({p.path}), {p.status}")
    click.echo(f"reason: {p.reason}")
    session = p.evidence.get("session")
    if isinstance(session, dict):
        click.echo(f"session: {session.get('format')} {session.get('id')} ({session.get('path')})")
    for step in p.evidence.get("steps", [])[:25]:
        click.echo(f"  step {step.get('index')}: {step.get('command')} (exit {step.get('exit_code')})")
    if p.branch:
        click.echo(f"branch: {p.branch}")
    click.echo(diff, nl=False)


@cmd.command("apply")
@click.argument("proposal_id")
@format_option("text", "json")
@common_options
def apply_cmd(proposal_id: str, fmt: str, root: Path, as_json: bool) -> None:
    """Write the proposed SKILL.md with a bumped version; the skill must pass verify again."""
    from skillctl.synth.proposals import apply

    p, version = apply(root, proposal_id)
    if fmt == "json":
        echo_json(p.to_dict())
    else:
        click.echo(f"{p.skill}: proposal {p.id} applied as version {version}; run `skillctl verify {p.skill}` "
                   "before agents load it")


@cmd.command("reject")
@click.argument("proposal_id")
@click.option("--reason", required=True, help="Why the change is not wanted (kept with the proposal).")
@format_option("text", "json")
@common_options
def reject_cmd(proposal_id: str, reason: str, fmt: str, root: Path, as_json: bool) -> None:
    """Reject a proposal, recording why."""
    from skillctl.synth.proposals import reject

    p = reject(root, proposal_id, reason)
    if fmt == "json":
        echo_json(p.to_dict())
    else:
        click.echo(f"{p.id}: rejected ({p.decision})")


@cmd.command("capture")
@click.option("--restore", is_flag=True, help="Put the certified files back after keeping the edit as a proposal.")
@format_option("text", "json")
@common_options
def capture_cmd(restore: bool, fmt: str, root: Path, as_json: bool) -> None:
    """Turn in-place edits of verified skills (digest differs from the lock) into proposals."""
    from skillctl.synth.proposals import capture

    found = capture(root, restore=restore)
    if fmt == "json":
        echo_json([p.to_dict() for p in found])
        return
    for p in found:
        restored = " (certified files restored)" if p.evidence.get("restored") else ""
        click.echo(f"{p.skill}: edited in place -> proposal {p.id}{restored}")
    if not found:
        click.echo("no in-place edits")
