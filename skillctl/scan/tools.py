"""``allowed-tools`` breadth measured against what the skill says it is for.

A skill that "formats meeting notes" has no business pre-approving every shell command; a
deployment skill asking for ``Bash(kubectl:*)`` does. The mismatch, not the permission, is
the signal: pre-approved tools run without the user being asked.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z_][\w.-]*(?:\([^)]*\))?|\*")
_SHELLISH = re.compile(
    r"\b(?:shell|bash|zsh|command|commands|terminal|cli|scripts?|run|runs|running|execute|build|deploy\w*|"
    r"install\w*|git|github|docker|kubectl|kubernetes|tests?|testing|compile\w*|servers?|devops|ci|"
    r"sysadmin|system|admin\w*|automat\w*|debug\w*|pipelines?|infrastructure|process(?:es)?|"
    r"package|npm|pip|cargo|make|repo(?:sitory)?|code)\b",
    re.IGNORECASE,
)
_DANGEROUS_CMDS = frozenset({
    "curl", "wget", "sudo", "su", "rm", "ssh", "scp", "nc", "ncat", "socat", "bash", "sh", "zsh", "eval",
    "python", "python3", "node", "perl", "ruby", "chmod", "chown", "crontab", "dd", "mkfs", "base64",
})


def tool_tokens(value: object) -> list[str]:
    """``allowed-tools`` as a list of tool specs, whichever YAML shape it was written in."""
    if isinstance(value, str):
        return _TOKEN.findall(value)
    if isinstance(value, list):
        return [tok for item in value if isinstance(item, str) for tok in _TOKEN.findall(item)]
    return []


def _broad(token: str) -> str | None:
    """Why a single tool spec is broad, or None when it is narrow."""
    if token == "*":
        return "every tool"
    m = re.fullmatch(r"(Bash|Shell|Terminal|Exec|Run)(?:\((.*)\))?", token, re.IGNORECASE)
    if not m:
        return None
    inner = (m.group(2) or "").strip()
    if inner in ("", "*", "*:*", ":*"):
        return f"any {m.group(1)} command"
    command = re.split(r"[\s:]", inner, maxsplit=1)[0].lower()
    if command in _DANGEROUS_CMDS and ("*" in inner or ":" in inner):
        return f"any arguments to {command!r}"
    return None


def tool_breadth(allowed_tools: object, description: str) -> tuple[str, str] | None:
    """``(severity, message)`` when the pre-approved tools outgrow the description, else None."""
    reasons = [r for tok in tool_tokens(allowed_tools) if (r := _broad(tok))]
    if not reasons:
        return None
    innocuous = not _SHELLISH.search(description or "")
    what = "; ".join(dict.fromkeys(reasons))
    if innocuous:
        return "high", (f"allowed-tools pre-approves {what}, but the description never mentions running "
                        "commands: the permission is far broader than the stated purpose")
    if any(r == "every tool" or r.startswith("any arguments") for r in reasons):
        return "medium", f"allowed-tools pre-approves {what} without confirmation"
    return None
