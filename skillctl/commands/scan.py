"""``skillctl scan``: security findings as text, JSON or SARIF; quarantine with --apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from skillctl.commands._common import common_options, echo_json
from skillctl.model import Finding
from skillctl.repo import relpath
from skillctl.report import SarifResult, SarifRule, sarif_log, to_json
from skillctl.vocab import SEVERITIES

FAIL_ON = ("blocking", *SEVERITIES)
ANALYZERS = {
    "UNI-TAG-001": "invisible Unicode tag characters spell hidden text",
    "UNI-BIDI-001": "bidirectional override characters reorder what reviewers see",
    "UNI-ZW-001": "zero-width characters hide words from review",
    "UNI-ZW-002": "a run of zero-width characters encodes hidden data",
    "NAME-LOOKALIKE-001": "skill name imitates a popular or sibling skill",
    "TOOLS-BREADTH-001": "allowed-tools far broader than the description",
    "FILE-BIN-001": "opaque binary or archive shipped with the skill",
    "FILE-LINK-001": "symlink inside the skill",
    "FILE-SIZE-001": "file too large to scan",
    "INJ-COMMENT-001": "HTML comment gives instructions to the agent",
    "SUPPRESS-001": "skillctl-ignore marker without a rule id or reason",
}


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="Output format.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="blocking", show_default=True,
              help="Exit 1 when an unsuppressed finding reaches this severity ('blocking': the trust policy).")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule pack directory or file (repeatable); skillctl.yaml 'rules:' are added too.")
@click.option("--apply", "apply_", is_flag=True, help="Quarantine skills with blocking findings in skills.lock.")
@common_options
def cmd(paths: tuple[Path, ...], fmt: str, fail_on: str, rule_dirs: tuple[Path, ...], apply_: bool,
        root: Path, as_json: bool) -> None:
    """Scan skills for malicious or risky content with the rule packs and analyzers.

    Exit 0 when clean, 1 when a finding reaches --fail-on, 2 when input cannot be read.
    """
    from skillctl.config import load_config
    from skillctl.scan import Scanner, scan_tree

    config = load_config(root)
    scanner = Scanner.from_config(config, root=root, extra_rules=rule_dirs)
    results = scan_tree(list(paths) or [root], root=root, scanner=scanner)
    fmt = "json" if as_json and fmt == "text" else fmt
    findings = [f for r in results for f in r.findings]
    failing = [f for f in findings if not f.suppressed and _fails(f, fail_on)]
    quarantined = _quarantine(root, results) if apply_ else []
    if fmt == "json":
        echo_json({
            "skills": [{"name": r.name, "path": relpath(r.folder, root), "trust": r.tier, "blocking": bool(r.blocking),
                        "error": str(r.error) if r.error else None, "findings": r.findings} for r in results],
            "quarantined": quarantined,
            "summary": _summary(results, findings),
        })
    elif fmt == "sarif":
        click.echo(to_json(_sarif(scanner, findings, root)))
    else:
        _text(results, findings, quarantined, apply_)
    if any(r.error for r in results):
        raise SystemExit(2)
    raise SystemExit(1 if failing else 0)


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


def _quarantine(root: Path, results: list[Any]) -> list[str]:
    """Blocking findings move a skill to ``quarantined`` unless a human approved this exact content."""
    from skillctl.clock import utcnow
    from skillctl.gitops import commit_paths
    from skillctl.lock import lock_path, lock_transaction, skill_digest
    from skillctl.policy import approval_covers
    from skillctl.transitions import after_block

    changed: list[str] = []
    now = utcnow()
    with lock_transaction(root) as lock:
        for r in results:
            ids = sorted({f.rule_id for f in r.blocking})
            if not ids or r.error is not None:
                continue
            digest = skill_digest(r.folder, root=root)
            entry = lock.skills.get(r.name)
            if approval_covers(entry, digest) or (entry is not None and entry.status == "retired"):
                continue
            if entry is not None and entry.status == "quarantined" and sorted(entry.findings) == ids:
                continue
            lock.skills[r.name] = after_block(entry, digest=digest, version=None if entry is None else entry.version,
                                              path=relpath(r.folder, root), findings=ids, now=now)
            changed.append(r.name)
    if changed:
        commit_paths(root, [lock_path(root)], "skillctl scan: quarantine " + ", ".join(changed))
    return changed


def _sarif(scanner: Any, findings: list[Finding], root: Path) -> dict[str, Any]:
    rules = [SarifRule(id=r.id, description=r.message, help=r.remediation, level=r.severity,
                       properties={"category": r.category, "tags": ["security", r.category],
                                   "source": Path(r.source).name})
             for r in scanner.rules.rules]
    rules += [SarifRule(id=rid, description=text, level="high", properties={"tags": ["security"]})
              for rid, text in ANALYZERS.items()]
    results = [SarifResult(rule_id=f.rule_id, level=f.severity, message=f.message, path=f.path, line=f.line,
                           snippet=f.snippet or None) for f in findings]
    log = sarif_log("skillctl-scan", rules, results, root=root)
    for item, f in zip(log["runs"][0]["results"], findings, strict=True):
        item["properties"] = {"severity": f.severity, "blocking": f.blocking}
        if f.suppressed:
            item["suppressions"] = [{"kind": "inSource", "justification": f.suppression_reason or ""}]
    return log
