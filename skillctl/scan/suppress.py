"""Suppressions: accepted findings, always with a reason, always listed in the report.

Inline: ``<!-- skillctl-ignore RULE-ID: reason -->`` (or ``# skillctl-ignore RULE-ID: reason``
in a script) on the finding's line or the line before. Repo-wide: ``suppress:`` in
``skillctl.yaml`` with ``rule``, ``reason`` and optionally ``path`` (a glob) or ``skill``.
A suppression without a reason suppresses nothing and is itself a finding: a reviewer must be
able to see why a risk was accepted. Inline suppressions only count in skills whose tier lets
their authors vouch for themselves (``Policy.honours_inline_suppressions``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
from pathlib import Path
from typing import Any

from skillctl.model import Finding

MARKER = "skillctl-ignore"
_MARKER_RE = re.compile(
    r"skillctl-ignore(?:[ \t]+(?P<ids>[A-Za-z0-9_*-]+(?:[ \t]*,[ \t]*[A-Za-z0-9_*-]+)*))?"
    r"[ \t]*(?::[ \t]*(?P<reason>.*?))?[ \t]*(?:-->|\*/|$)",
    re.MULTILINE,
)


def markers(text: str) -> dict[int, list[tuple[set[str], str, int]]]:
    """Line → ``(rule ids, reason, marker line)`` for every line a marker covers."""
    covered: dict[int, list[tuple[set[str], str, int]]] = {}
    if MARKER not in text:
        return covered
    for m in _MARKER_RE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        ids = {i.strip() for i in (m.group("ids") or "").split(",") if i.strip()}
        entry = (ids, (m.group("reason") or "").strip(), line)
        for target in (line, line + 1):
            covered.setdefault(target, []).append(entry)
    return covered


def repo_suppressions(config: Any) -> list[dict[str, str]]:
    """``suppress:`` from skillctl.yaml (its schema requires a rule and a reason in each)."""
    entries = getattr(config, "suppress", None) or []
    return [{k: str(v) for k, v in entry.model_dump(exclude_none=True).items()} for entry in entries]


def _repo_match(f: Finding, entry: dict[str, str], root: Path | None) -> bool:
    if not fnmatch.fnmatchcase(f.rule_id, entry["rule"]):
        return False
    path = f.path
    if root is not None and Path(path).is_absolute():
        with contextlib.suppress(ValueError):
            path = Path(path).relative_to(root).as_posix()
    if "path" in entry and not fnmatch.fnmatchcase(path, entry["path"]):
        return False
    return not ("skill" in entry and entry["skill"] not in Path(path).parts)


def apply_suppressions(findings: list[Finding], texts: dict[str, str], repo: list[dict[str, str]],
                       tier: str, policy: Any, root: Path | None) -> list[Finding]:
    """Mark suppressed findings; add a finding for every marker that lacks a reason."""
    out = list(findings)
    inline_ok = policy.honours_inline_suppressions(tier)
    by_path = {path: markers(text) for path, text in texts.items() if MARKER in text}
    for path, covered in by_path.items():
        reported: set[int] = set()
        for entries in covered.values():
            for ids, reason, line in entries:
                if line in reported:
                    continue
                reported.add(line)
                if not reason or not ids:
                    out.append(Finding(
                        rule_id="SUPPRESS-001", category="suppression", severity="medium", path=path, line=line,
                        message="skillctl-ignore needs a rule id and a reason "
                                "(<!-- skillctl-ignore RULE-ID: why this is safe -->); it suppresses nothing",
                        remediation="Add the rule id and the reason after a colon, or remove the marker.",
                    ))
    for f in out:
        if f.rule_id == "SUPPRESS-001":
            continue
        for entry in repo:
            if _repo_match(f, entry, root):
                f.suppressed, f.suppression_reason = True, f"skillctl.yaml: {entry['reason']}"
                break
        if f.suppressed or f.line is None:
            continue
        for ids, reason, _line in by_path.get(f.path, {}).get(f.line, []):
            if reason and (f.rule_id in ids or "*" in ids):
                if inline_ok:
                    f.suppressed, f.suppression_reason = True, reason
                else:
                    f.message += f" (inline suppression not honoured for {tier} skills: {reason})"
                break
    return out
