"""``skillctl scan``: security findings as text, JSON or SARIF; quarantine with --apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from skillctl.commands._common import common_options, echo_json, format_option
from skillctl.model import Finding
from skillctl.repo import relpath
from skillctl.report import to_json
from skillctl.vocab import SEVERITIES

FAIL_ON = ("blocking", *SEVERITIES)


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@format_option("text", "json", "sarif")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="blocking", show_default=True,
              help="Exit 1 when an unsuppressed finding reaches this severity ('blocking': the trust policy).")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule pack directory or file (repeatable); skillctl.yaml 'rules:' are added too.")
@click.option("--apply", "apply_", is_flag=True, help="Quarantine skills with blocking findings in skills.lock.")
@common_options
def cmd(paths: tuple[Path, ...], fmt: str, fail_on: str, rule_dirs: tuple[Path, ...], apply_: bool,
        root: Path, as_json: bool) -> None:
    """Scan skills for malicious or risky content with the rule packs and analyzers.

    Exit 0 when clean, 1 when a finding reaches --fail-on or a SKILL.md cannot be parsed,
    2 when a named path does not exist or a rule pack or the config is broken.
    """
    from skillctl.config import load_config
    from skillctl.scan import Scanner, scan_tree

    config = load_config(root)
    scanner = Scanner.from_config(config, root=root, extra_rules=rule_dirs)
    results = scan_tree(list(paths) or [root], root=root, scanner=scanner)
    findings = [f for r in results for f in r.findings]
    failing = [f for f in findings if not f.suppressed and _fails(f, fail_on)]
    if apply_:
        from skillctl.gates import quarantine

        quarantined = quarantine(root, results)
    else:
        quarantined = []
    if fmt == "json":
        echo_json({
            "skills": [{"name": r.name, "path": relpath(r.folder, root), "trust": r.tier, "blocking": bool(r.blocking),
                        "error": str(r.error) if r.error else None, "findings": r.findings} for r in results],
            "quarantined": quarantined,
            "summary": _summary(results, findings),
        })
    elif fmt == "sarif":
        from skillctl.scan.sarif import sarif

        click.echo(to_json(sarif(scanner, findings, root)))
    else:
        _text(results, findings, quarantined, apply_)
    # an unreadable SKILL.md is a finding like any other (still scanned as plain text): exit 1
    raise SystemExit(1 if failing or any(r.error for r in results) else 0)


def _fails(f: Finding, fail_on: str) -> bool:
    if fail_on == "blocking":
        return f.blocking
    return SEVERITIES.index(f.severity) >= SEVERITIES.index(fail_on)


def _summary(results: list[Any], findings: list[Finding]) -> dict[str, int]:
    return {
        "skills": len(results),
        "findings": sum(not f.suppressed for f in findings),
        "blocking": sum(f.blocking for f in findings),
        "suppressed": sum(f.suppressed for f in findings),
        "blocked_skills": sum(bool(r.blocking) for r in results),
        "unreadable": sum(r.error is not None for r in results),
    }


def _text(results: list[Any], findings: list[Finding], quarantined: list[str], applied: bool) -> None:
    for r in results:
        if r.error is not None:
            click.echo(f"{r.error} (scanned as plain text, trust {r.tier})")
    for f in findings:
        if f.suppressed:
            continue
        flag = " BLOCKING" if f.blocking else ""
        click.echo(f"{f.path}:{f.line or 1}: {f.rule_id} {f.severity}{flag}: {f.message}")
        if f.snippet:
            click.echo(f"    | {f.snippet}")
    suppressed = [f for f in findings if f.suppressed]
    if suppressed:
        click.echo(f"suppressed ({len(suppressed)}):")
        for f in suppressed:
            click.echo(f"  {f.path}:{f.line or 1}: {f.rule_id} {f.severity}: {f.suppression_reason}")
    if quarantined:
        click.echo(("quarantined: " if applied else "") + ", ".join(quarantined))
    s = _summary(results, findings)
    click.echo(f"{s['skills']} skill(s) scanned: {s['findings']} finding(s), {s['blocking']} blocking in "
               f"{s['blocked_skills']} skill(s), {s['suppressed']} suppressed", err=True)
