"""``skillctl approve NAME --reason ...``: a human vouches for one skill's content, on the record.

It lifts a quarantine, and can grant a trust tier (``--tier``) or let this content's checks
hold secrets with the network (``--allow-network-secrets``); see ``gates.approve``.
"""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option


@click.command("approve")
@click.argument("name")
@click.option("--reason", required=True, help="Why the findings are acceptable (recorded in the lock).")
@click.option("--by", "by", default=None, help="Who approves (default: git user.name <user.email>, else $USER).")
@click.option("--tier", type=click.Choice(["builtin", "team", "community", "synthesized"]), default=None,
              help="Grant this trust tier to exactly this content (digest).")
@click.option("--allow-network-secrets", "allow_secrets", is_flag=True,
              help="Let this content's checks have env= secrets and network=true together.")
@format_option('text', 'json')
@common_options
def cmd(name: str, reason: str, by: str | None, tier: str | None, allow_secrets: bool, fmt: str, root: Path,
        as_json: bool) -> None:
    """Lift NAME's quarantine, or grant it a tier, after human review (who, when, why, digest)."""
    from skillctl.clock import format_ts
    from skillctl.gates import approve

    done = approve(root, name, reason, by=by, tier=tier, allow_network_secrets=allow_secrets)
    if fmt == "json":
        echo_json({"name": name, "status": done.status, "approval": done.approval, "commit": done.commit})
        return
    a = done.approval
    granted = "".join([f"; tier {a.tier}" if a.tier else "", "; network+env allowed" if a.allow else ""])
    click.echo(f"{name}: {done.was} -> {done.status} (approved by {a.by} at {format_ts(a.at)}; "
               f"digest {(a.digest or '')[:19]}…{granted})")
    click.echo("run `skillctl verify` before agents can load it again")
