"""``skillctl audit``: TTL expiry and pinned-dependency rot, as a table, JSON or SARIF."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillctl.commands._common import common_options, echo_json, format_option

if TYPE_CHECKING:
    from skillctl.rot.audit import AuditReport

_MARK = {"ok": "ok", "outdated": "outdated", "yanked": "YANKED", "deprecated": "DEPRECATED",
         "abandoned": "abandoned", "missing": "MISSING", "unreachable": "unreachable", "error": "ERROR"}


@click.command("audit")
@click.argument("skills", nargs=-1)
@format_option("text", "json", "sarif")
@click.option("--offline", is_flag=True, help="No network: judge pins from the registry cache only.")
@click.option("--refresh", is_flag=True, help="Ignore fresh cache entries and ask the registries again.")
@click.option("--apply", "apply", is_flag=True, help="Write active -> stale transitions to skills.lock and commit it.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None,
              help="Concurrent registry requests (default: audit.concurrency in skillctl.yaml, else 16).")
@click.option("--verbose", "-v", is_flag=True, help="Also list pins that are up to date.")
@common_options
def cmd(skills: tuple[str, ...], fmt: str, offline: bool, refresh: bool, apply: bool, jobs: int | None,
        verbose: bool, root: Path, as_json: bool) -> None:
    """Audit skills for rot: expired TTLs and outdated, yanked, deprecated or missing pins.

    Registry URLs come from skillctl.yaml `registries:` and SKILLCTL_REGISTRY_<DATASOURCE>
    (which wins). Exit 0 when nothing is stale because of this audit, 1 otherwise.
    """
    from skillctl.rot.audit import run_audit

    report = run_audit(root, list(skills) or None, offline=offline, refresh=refresh, apply=apply, jobs=jobs)
    if fmt == "json":
        echo_json(report.to_json())
    elif fmt == "sarif":
        from skillctl.report import to_json
        from skillctl.rot.audit import sarif

        click.echo(to_json(sarif(report, root)))
    else:
        render(report, verbose=verbose)
    raise SystemExit(report.exit_code)


def _order(item: tuple[str, int]) -> int:
    order = ("active", "stale", "failing", "quarantined", "draft", "retired", "untracked")
    return order.index(item[0]) if item[0] in order else len(order)


_EXPLAIN = ("stale", "failing", "quarantined", "retired")


def _when(expires: datetime | None, now: datetime) -> str:
    if expires is None:
        return "never verified"
    days = (expires - now).total_seconds() / 86400
    if days <= 0:
        return f"ttl expired {expires:%Y-%m-%d} ({-days:.0f}d ago)"
    return f"expires {expires:%Y-%m-%d} (in {days:.0f}d)"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def render(report: AuditReport, verbose: bool = False, *, title: str = "status after audit",
           footer: bool = True) -> None:
    """Grouped by skill: status now -> after, why the lock says so, then the pins worth a look."""
    policy = report.policy
    labels = [f"{p.pin.package} {p.pin.version}" for s in report.skills for p in s.pins]
    width = min(max((len(x) for x in labels), default=10), 44)
    unchecked_pins, unchecked_skills = 0, 0
    for s in report.skills:
        status = f"{s.status_now} -> {s.status_after}" if s.changed else s.status_now
        detail = f"ERROR {s.error}" if s.error else _when(s.expires_at, report.checked_at)
        click.secho(f"{s.name:<28} {status:<18} {detail}", bold=s.changed)
        if s.status_now in _EXPLAIN and not s.changed and s.lock_reason:
            reason = s.lock_reason if len(s.lock_reason) <= 110 else s.lock_reason[:109] + "…"
            click.echo(f"    {'why':<15} {reason}")
        unchecked = 0
        for p in s.pins:
            source, label = p.pin.datasource, _cut(f"{p.pin.package} {p.pin.version}", width)
            if p.source == "offline-miss":
                unchecked += 1
                continue
            if not verbose and all(f.kind == "ok" for f in p.findings):
                continue
            for f in p.findings:
                kind = _MARK[f.kind] + (f" {f.level}" if f.level else "")
                flag = "  <- stale" if policy.blocks(f) else ""
                src = " [cache]" if p.source in ("cache", "stale-cache") else ""
                click.echo(f"    {source:<15} {label:<{width}}  {kind:<15} {f.message}{src}{flag}")
                source, label = "", ""
        unchecked_pins += unchecked
        unchecked_skills += bool(unchecked)
    summary = report.to_json()["summary"]
    click.echo("")
    counts: dict[str, int] = {}
    for s in report.skills:
        counts[s.status_after] = counts.get(s.status_after, 0) + 1
    click.echo(f"{title}: " + ", ".join(f"{n} {st}" for st, n in sorted(counts.items(), key=_order)))
    if unchecked_pins:  # one line, not one per skill: offline with an empty cache is the common case
        click.echo(f"{unchecked_pins} pin(s) of {unchecked_skills} skill(s) not checked: offline and not in the "
                   "registry cache (an online `skillctl audit` fills it)")
    click.echo(f"{summary['skills']} skills, {summary['pins']} pins ({summary['from_cache']} from cache, "
               f"{summary['unreachable']} unreachable): {summary['blocking']} finding(s) past policy "
               f"(stale_on: {', '.join(sorted(policy.stale_on))}), {summary['transitions']} transition(s)")
    for s in report.transitions:
        click.echo(f"  {s.name}: {s.status_now} -> {s.status_after}: {'; '.join(s.reasons)}")
    if not footer:
        return
    if report.transitions and not report.applied:
        click.echo("dry run: nothing written (use --apply to record transitions in skills.lock)", err=True)
    elif report.applied:
        click.echo(f"applied; committed {report.commit}" if report.commit else "applied (lock not committed)",
                   err=True)
