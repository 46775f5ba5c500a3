"""``skillctl validate``: spec and metadata rules, as text, JSON or SARIF."""

from __future__ import annotations

from pathlib import Path

import click

from skillctl.commands._common import common_options, echo_json, format_option
from skillctl.model import Severity
from skillctl.validate import names_missing_path, validate_paths


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Apply the Agent Skills spec exactly (else: what clients accept).")
@format_option("text", "json", "sarif")
@click.option("--scan", "with_scan", is_flag=True, help="Also run the security scan on the same skills.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors (no warnings or info).")
@click.option("--verbose", "-v", is_flag=True, help="Also print info-level notes in text output.")
@common_options
def cmd(paths: tuple[Path, ...], strict: bool, fmt: str, with_scan: bool, quiet: bool, verbose: bool,
        root: Path, as_json: bool) -> None:
    """Validate skill folders or whole trees (default: the repo).

    Exit 0 when clean, 1 when a rule is violated or a SKILL.md cannot be read or parsed,
    2 when a named path does not exist.
    """
    targets = list(paths) or [root]
    parsed: list = []
    diags = validate_paths(targets, strict=strict, root=root, parsed=parsed if with_scan else None)
    findings = []
    if with_scan:
        from skillctl.config import load_config
        from skillctl.scan import Scanner, scan_parsed

        scanner = Scanner.from_config(load_config(root), root=root)
        results = scan_parsed({p[0]: p for p in parsed}.values(), scanner)  # each folder once
        findings = [f for r in results for f in r.findings if not f.suppressed]
    if quiet:
        diags = [d for d in diags if d.severity is Severity.error]
    errors = sum(d.severity is Severity.error for d in diags)
    warnings = sum(d.severity is Severity.warning for d in diags)
    blocking = [f for f in findings if f.blocking]
    if fmt == "json":
        echo_json({"diagnostics": diags, "findings": findings,
                   "summary": {"errors": errors, "warnings": warnings, "blocking_findings": len(blocking)}})
    elif fmt == "sarif":
        from skillctl.report import to_json
        from skillctl.validate import sarif

        click.echo(to_json(sarif(diags, root)))
    else:
        for d in diags:
            if verbose or d.severity is not Severity.info:
                click.echo(d.render())
        for f in findings:
            click.echo(f"{f.path}:{f.line or 1}: {f.rule_id} {f.severity}: {f.message}")
        click.echo(f"{errors} error(s), {warnings} warning(s)"
                   + (f", {len(blocking)} blocking finding(s)" if with_scan else ""), err=True)
    if any(names_missing_path(d) for d in diags):
        raise SystemExit(2)
    raise SystemExit(1 if errors or blocking else 0)
