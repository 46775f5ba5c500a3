"""Secrets out of a session before anything else sees it: the model, the draft, a proposal.

Agents mask some secrets in what they store and not others (Hermes masked an AWS key id and
left the secret key beside it in clear), so skillctl never trusts an agent's masking and
redacts every text of a session itself, in three passes: known token formats, ``KEY=value``
style assignments whose name says secret, and long high-entropy strings. False positives cost
a placeholder in a draft someone will review; a false negative leaks a credential into a
committed skill — so the passes err on the side of redacting.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from skillctl.synth.sessions.model import Session

#: Known token formats: (kind, literal hint, pattern). The whole match is replaced. A pattern runs
#: only on text holding its hint (a C-speed substring test), which keeps a session of thousands
#: of tool outputs cheap to redact.
TOKEN_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, hints, re.compile(rx)) for kind, hints, rx in (
        ("private-key", ("PRIVATE KEY",),
         r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"),
        ("aws-access-key-id", ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
         r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
        ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
         r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        ("anthropic-key", ("sk-ant-",), r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
        ("openai-key", ("sk-",), r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
        ("slack-token", ("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("slack-webhook", ("hooks.slack.com",), r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
        ("google-api-key", ("AIza",), r"\bAIza[0-9A-Za-z_\-]{35}\b"),
        ("stripe-key", ("_live_", "_test_"), r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b"),
        ("gitlab-token", ("glpat-",), r"\bglpat-[0-9A-Za-z_\-]{20,}\b"),
        ("npm-token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("pypi-token", ("pypi-",), r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"),
        ("jwt", ("eyJ",), r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
        ("url-credentials", ("://",), r"(?<=://)[^/\s:@]{1,64}:[^/\s@]{1,128}(?=@)"),
        ("bearer", ("earer ", "EARER "), r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/\-]{12,}=*"),
    ))
#: Lower-case words one of which a secret assignment or flag must contain.
_NAME_HINTS = ("key", "secret", "token", "pass", "pwd", "credential", "auth", "private", "session", "cookie")

_SECRET_NAME = r"[A-Za-z0-9_\-]*(?:KEY|SECRET|TOKEN|PASSW(?:OR)?D|PASS|PWD|CREDENTIALS?|AUTH|PRIVATE|SESSION|COOKIE)" \
               r"[A-Za-z0-9_\-]*"
#: ``NAME=value``, ``export NAME=value``, ``NAME: value``, ``"name": "value"`` with a secret-ish name.
ASSIGNMENT = re.compile(
    rf"""(?ix)(?P<name>\b{_SECRET_NAME})(?P<sep>\s*=\s*|:\s+|["']\s*:\s*)(?P<q>["']?)(?P<value>[^\s"',;]{{4,}})""")
#: ``--password xyz``, ``-p xyz`` style flags.
FLAG = re.compile(r"(?i)(?P<flag>--?(?:password|passwd|token|api-key|apikey|secret|auth|key)[= ])"
                  r"(?P<value>[^\s\"']{4,})")
CANDIDATE = re.compile(r"[A-Za-z0-9+/_\-]{24,}={0,2}")
PLACEHOLDER = "[REDACTED:{}]"
_NOT_SECRETS = ("true", "false", "none", "null", "bearer", "basic", "token", "required", "optional")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _high_entropy(token: str) -> bool:
    """A long random-looking string: mixed classes and many distinct characters.

    Plain hex (digests, commit ids) is left alone: skills legitimately quote checksums and a
    hex secret is still caught when it is assigned to a secret-looking name.
    """
    if re.fullmatch(r"[0-9a-fA-F]+", token) or token.startswith("REDACTED"):
        return False
    if "/" in token and re.fullmatch(r"[A-Za-z0-9_./\-]+", token) and token.count("/") >= 2:
        return False  # a path
    classes = sum(bool(re.search(rx, token)) for rx in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 3 and entropy(token) >= 4.0


@dataclass
class Redactions:
    """What was redacted, by kind (the values themselves are never kept)."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items())) or "none"


def redact_text(text: str, found: Redactions | None = None) -> str:
    """*text* with every secret replaced by a ``[REDACTED:kind]`` placeholder."""
    if not text:
        return text
    found = found if found is not None else Redactions()

    for kind, hints, pattern in TOKEN_PATTERNS:
        if not any(h in text for h in hints):
            continue

        def token(m: re.Match[str], kind: str = kind) -> str:
            found.counts[kind] += 1
            return PLACEHOLDER.format(kind)
        text = pattern.sub(token, text)
    low = text.lower()
    named = any(h in low for h in _NAME_HINTS)

    def assign(m: re.Match[str]) -> str:
        value = m.group("value")
        if value.startswith("[REDACTED") or value.startswith("$") or value.lower() in _NOT_SECRETS:
            return m.group(0)
        found.counts["assignment"] += 1
        return f"{m.group('name')}{m.group('sep')}{m.group('q')}{PLACEHOLDER.format('secret')}"
    if named:
        text = ASSIGNMENT.sub(assign, text)

    def flag(m: re.Match[str]) -> str:
        if m.group("value").startswith(("[REDACTED", "$")):
            return m.group(0)
        found.counts["flag"] += 1
        return m.group("flag") + PLACEHOLDER.format("secret")
    if named:
        text = FLAG.sub(flag, text)

    def entropic(m: re.Match[str]) -> str:
        if not _high_entropy(m.group(0)):
            return m.group(0)
        found.counts["high-entropy"] += 1
        return PLACEHOLDER.format("high-entropy")
    return CANDIDATE.sub(entropic, text)


def _redact_value(value: Any, found: Redactions) -> Any:
    if isinstance(value, str):
        return redact_text(value, found)
    if isinstance(value, list):
        return [_redact_value(v, found) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v, found) for k, v in value.items()}
    return value


def redact_session(session: Session) -> Redactions:
    """Redact every text of *session* in place: task, prompts, commands, arguments, outputs, answer."""
    found = Redactions()
    session.task = redact_text(session.task, found)
    session.followups = [redact_text(t, found) for t in session.followups]
    session.final_answer = redact_text(session.final_answer, found)
    for step in session.steps:
        step.command = redact_text(step.command, found) if step.command else step.command
        step.arguments = _redact_value(step.arguments, found)
        step.output = redact_text(step.output, found)
    return found
