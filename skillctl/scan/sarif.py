"""Scan findings as SARIF, for GitHub code scanning (alerts land on the skill's changed lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillctl.model import Finding
from skillctl.report import SarifResult, SarifRule, sarif_log

#: The analyzers' finding ids (rule packs describe their own rules).
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
    "FILE-SPECIAL-001": "FIFO, socket or device inside the skill (never opened)",
    "FILE-TREE-001": "folders nested too deep or unlistable: files below not scanned",
    "PREREQ-001": "fake prerequisite: download-and-run or paste-into-terminal from a bad source",
    "AGENT-SEND-001": "the skill tells the agent to send local files or tokens somewhere",
    "AGENT-HIDE-001": "the skill tells the agent to hide what it does from the user",
    "AGENT-APPROVAL-001": "the skill tells the agent to switch off approvals",
    "OBF-ASSEMBLE-001": "the name of a dangerous call is assembled or decoded at run time",
    "EXFIL-DNS-001": "data leaves through DNS lookups of built names",
    "TIMEBOMB-001": "destructive or remote commands gated on a date",
    "RCE-FETCH-001": "downloaded code or pickle executed or unpickled",
    "TRAV-WRITE-001": "a script reaches outside the skill into code-running or secret files",
    "TRAV-WRITE-002": "a script writes outside the skill folder",
    "SECRET-001": "a private key committed with the skill",
    "INJ-COMMENT-001": "HTML comment gives instructions to the agent",
    "SUPPRESS-001": "skillctl-ignore marker without a rule id or reason",
}


def sarif(scanner: Any, findings: list[Finding], root: Path | None = None) -> dict[str, Any]:
    """Every rule of the packs and analyzers, and every finding (suppressed ones marked as such)."""
    rules = [SarifRule(id=r.id, description=r.message, help=r.remediation, level=r.severity,
                       properties={"category": r.category, "tags": ["security", r.category],
                                   "source": Path(r.source).name})
             for r in scanner.rules.rules]
    rules += [SarifRule(id=rid, description=text, level="high", properties={"tags": ["security"]})
              for rid, text in ANALYZERS.items()]
    results = [SarifResult(rule_id=f.rule_id, level=f.severity, message=f.message, path=f.path, line=f.line,
                           snippet=f.snippet or None, properties={"severity": f.severity, "blocking": f.blocking},
                           suppression=(f.suppression_reason or "") if f.suppressed else None)
               for f in findings]
    return sarif_log("skillctl-scan", rules, results, root=root)
