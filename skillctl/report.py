"""Output formats shared by every command: JSON, SARIF 2.1.0 and JUnit XML.

SARIF is what GitHub code scanning ingests; artifact URIs are repo-relative so annotations land
on the right files in a pull request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillctl import __version__, vocab

FORMATS = vocab.FORMATS  # re-exported: the formats this module renders

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {
    "error": "error", "critical": "error", "high": "error",
    "warning": "warning", "medium": "warning",
    "low": "note", "info": "note", "note": "note",
}


@dataclass
class SarifRule:
    id: str
    description: str
    help: str = ""
    level: str = "warning"
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class SarifResult:
    rule_id: str
    level: str
    message: str
    path: str
    line: int | None = None
    snippet: str | None = None
    properties: dict[str, Any] | None = None
    suppression: str | None = None
    """Why a reviewed finding was accepted (a SARIF in-source suppression)."""


def sarif_uri(path: str, root: Path | None) -> str:
    """A repo-relative POSIX path when possible (what code scanning maps onto files)."""
    from skillctl.repo import relpath

    return relpath(Path(path), root) if root is not None else Path(path).as_posix()


def sarif_log(tool: str, rules: Iterable[SarifRule], results: Iterable[SarifResult],
              root: Path | None = None) -> dict[str, Any]:
    """The one SARIF 2.1.0 builder: every command's results become one run of one log.

    The library modules turn their own results into ``SarifRule``/``SarifResult`` records
    (``validate.sarif``, ``scan.sarif``, ``rot.audit.sarif``); only this function knows SARIF.
    """
    rule_list = list({r.id: r for r in rules}.values())
    index = {r.id: i for i, r in enumerate(rule_list)}
    out_results = []
    for res in results:
        region: dict[str, Any] = {"startLine": max(1, res.line or 1)}
        if res.snippet:
            region["snippet"] = {"text": res.snippet}
        item: dict[str, Any] = {
            "ruleId": res.rule_id,
            "level": _SARIF_LEVEL.get(res.level, "warning"),
            "message": {"text": res.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": sarif_uri(res.path, root)},
                "region": region,
            }}],
        }
        if res.rule_id in index:
            item["ruleIndex"] = index[res.rule_id]
        if res.properties:
            item["properties"] = res.properties
        if res.suppression is not None:
            item["suppressions"] = [{"kind": "inSource", "justification": res.suppression}]
        out_results.append(item)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool,
                "version": __version__,
                "informationUri": "https://github.com/skillctl/skillctl",
                "rules": [{
                    "id": r.id,
                    "shortDescription": {"text": r.description},
                    "fullDescription": {"text": r.description},
                    "help": {"text": r.help or r.description},
                    "defaultConfiguration": {"level": _SARIF_LEVEL.get(r.level, "warning")},
                    "properties": r.properties,
                } for r in rule_list],
            }},
            "results": out_results,
        }],
    }


def to_json(data: Any) -> str:
    """Stable, readable JSON (pydantic models and paths included)."""
    return json.dumps(data, indent=2, sort_keys=False, default=_default, ensure_ascii=False)


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):  # pydantic models and skillctl.model records
        return obj.model_dump(mode="json")
    if isinstance(obj, Path):
        return obj.as_posix()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


@dataclass
class JUnitCase:
    classname: str
    name: str
    time: float
    failure: str | None = None
    skipped: str | None = None
    output: str = ""


def junit_xml(suite: str, cases: list[JUnitCase]) -> str:
    """JUnit XML (one testsuite) as CI test reporters expect it."""
    from xml.sax.saxutils import escape, quoteattr

    failures = sum(1 for c in cases if c.failure is not None)
    skipped = sum(1 for c in cases if c.skipped is not None)
    total = sum(c.time for c in cases)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites><testsuite name={quoteattr(suite)} tests="{len(cases)}" failures="{failures}" '
             f'errors="0" skipped="{skipped}" time="{total:.3f}">']
    for c in cases:
        lines.append(f'  <testcase classname={quoteattr(c.classname)} name={quoteattr(c.name)} '
                     f'time="{c.time:.3f}">')
        if c.failure is not None:
            lines.append(f"    <failure message={quoteattr(_xml_safe(c.failure[:200]))}>{escape(_xml_safe(c.failure))}"
                         "</failure>")
        if c.skipped is not None:
            lines.append(f"    <skipped message={quoteattr(c.skipped)}/>")
        if c.output:
            lines.append(f"    <system-out>{escape(_xml_safe(c.output))}</system-out>")
        lines.append("  </testcase>")
    lines.append("</testsuite></testsuites>")
    return "\n".join(lines) + "\n"


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (check output may be binary garbage)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"))


def text_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain aligned table: readable in a terminal, a CI log and a pipe alike."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def human_delta(when: Any, now: Any) -> str:
    """``in 12d`` / ``expired 3h ago``: expiry at a glance."""
    if when is None:
        return "-"
    from skillctl.clock import as_utc

    seconds = int((as_utc(when) - as_utc(now)).total_seconds())
    span = abs(seconds)
    text = f"{span // 86400}d" if span >= 86400 else f"{span // 3600}h" if span >= 3600 else f"{span // 60}m"
    return f"in {text}" if seconds > 0 else f"expired {text} ago"
