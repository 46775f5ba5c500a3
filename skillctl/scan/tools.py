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


# What a description says when a pre-approved command fits its purpose: an API skill needs curl,
# a data skill runs python. Without such words the permission outgrows the stated purpose.
_PURPOSE = {
    "curl": r"api|apis|http\w*|rest|web\w*|url|urls|endpoint\w*|request\w*|fetch\w*|download\w*|upload\w*|"
            r"service\w*|integrat\w*|sdk|graphql|oauth|json",
    "python": r"python|script\w*|data\w*|analy\w*|notebook\w*|pandas|model\w*|process\w*|convert\w*|"
              r"generat\w*|parse\w*|calculat\w*|compute\w*|automat\w*|file\w*",
    "node": r"node|javascript|typescript|js|ts|npm|react|next|web\w*|frontend|script\w*|generat\w*|build\w*",
}
_PURPOSE["wget"] = _PURPOSE["curl"]
_PURPOSE["python3"] = _PURPOSE["python"]


def _broad(token: str) -> tuple[str, str] | None:
    """``(kind, why)`` when a single tool spec is broad, or None when it is narrow.

    Kinds: ``every`` (``*``), ``explicit`` (a written wildcard: ``Bash(*)``), ``bare`` (``Bash``
    with no pattern: how generated skill templates list the tool), ``args:CMD`` (any arguments
    to a risky command).
    """
    if token == "*":
        return "every", "every tool"
    m = re.fullmatch(r"(Bash|Shell|Terminal|Exec|Run)(?:\((.*)\))?", token, re.IGNORECASE)
    if not m:
        return None
    inner = (m.group(2) or "").strip()
    if inner in ("*", "*:*", ":*"):
        return "explicit", f"any {m.group(1)} command"
    if inner == "":
        return "bare", f"any {m.group(1)} command"
    command = re.split(r"[\s:]", inner, maxsplit=1)[0].lower()
    if command in _DANGEROUS_CMDS and ("*" in inner or ":" in inner):
        return f"args:{command}", f"any arguments to {command!r}"
    return None


def tool_breadth(allowed_tools: object, description: str) -> tuple[str, str] | None:
    """``(severity, message)`` when the pre-approved tools outgrow the description, else None.

    Breadth is a permission to review, not evidence of intent: a bare ``Bash`` is in about one
    real community skill in eight. So a written wildcard on a skill whose description never
    mentions running anything rates high, any arguments to a risky command that the description
    gives no reason for, or a bare ``Bash``, rates low: real community skills template both (about
    one in eight), so on their own they are a note for the reviewer, not a block.
    """
    broad = [b for tok in tool_tokens(allowed_tools) if (b := _broad(tok))]
    if not broad:
        return None
    description = description or ""
    innocuous = not _SHELLISH.search(description)
    what = "; ".join(dict.fromkeys(why for _, why in broad))
    kinds = {kind for kind, _ in broad}
    if innocuous and kinds & {"every", "explicit"}:
        return "high", (f"allowed-tools pre-approves {what}, but the description never mentions running "
                        "commands: the permission is far broader than the stated purpose")
    unexplained = [k for k in kinds if k.startswith("args:") and not (
        (words := _PURPOSE.get(k[5:])) and re.search(rf"\b(?:{words})\b", description, re.IGNORECASE))]
    if innocuous and unexplained:
        return "low", f"allowed-tools pre-approves {what}, which nothing in the description calls for"
    if innocuous and "bare" in kinds:
        return "low", f"allowed-tools pre-approves {what} for a skill whose description mentions no commands"
    if "every" in kinds:
        return "medium", f"allowed-tools pre-approves {what} without confirmation"
    return None
