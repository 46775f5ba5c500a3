"""The data skillctl reasons about, as pydantic models.

Parsing (``parse.py``) turns files into these; everything downstream (validate, scan, verify,
lock, loader) consumes them. Models are deliberately permissive about what they *hold* (a
lenient parse must be able to represent a messy real-world skill) and ``validate.py`` is where
rules are enforced, with a diagnostic per problem instead of one pydantic error.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DATASOURCES = ("pypi", "npm", "github-releases", "docker", "helm", "tool", "url")
ORIGINS = ("human", "synthesized", "imported")
TRUST_TIERS = ("builtin", "team", "community", "synthesized")
STATUSES = ("draft", "active", "stale", "failing", "quarantined", "retired")
CHECK_LANGUAGES = ("bash", "sh", "python")
CHECK_ATTRIBUTES = ("check", "timeout", "network", "env")
SPEC_FIELDS = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")

Status = Literal["draft", "active", "stale", "failing", "quarantined", "retired"]


class Severity(str, Enum):
    """Diagnostic severity. ``error`` fails ``validate``; the others inform."""

    error = "error"
    warning = "warning"
    info = "info"


class Diagnostic(BaseModel):
    """One problem found in a file, with a stable code a user can search for."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    path: str
    line: int | None = None
    message: str

    def render(self) -> str:
        loc = f"{self.path}:{self.line}" if self.line else self.path
        return f"{loc}: {self.code} {self.severity.value}: {self.message}"


_TTL_RE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_TTL_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def parse_ttl(value: object) -> timedelta | None:
    """``30d`` -> 30 days. Returns None when the syntax is wrong or the value is not positive."""
    if not isinstance(value, str):
        return None
    m = _TTL_RE.match(value)
    if not m or int(m.group(1)) <= 0:
        return None
    return timedelta(seconds=int(m.group(1)) * _TTL_UNITS[m.group(2)])


class Pin(BaseModel):
    """An outside thing a skill depends on, pinned so rot can be detected."""

    datasource: str
    package: str
    version: str
    line: int | None = None


class Lifecycle(BaseModel):
    """The ``metadata.skillctl`` block: what skillctl needs to manage a skill's life."""

    version: str | None = None
    owner: str | None = None
    ttl: str | None = None
    origin: str | None = None
    trust: str | None = None
    pins: list[Pin] = Field(default_factory=list)

    def ttl_delta(self) -> timedelta | None:
        return parse_ttl(self.ttl)


class Check(BaseModel):
    """One verification step: a fenced block in the ``## Verification`` section."""

    id: str | None
    language: str
    attributes: dict[str, str] = Field(default_factory=dict)
    code: str
    expected_output: str | None = None
    line: int

    @property
    def timeout(self) -> float:
        try:
            return float(self.attributes.get("timeout", "60"))
        except ValueError:
            return 60.0

    @property
    def network(self) -> bool:
        return self.attributes.get("network", "false").lower() == "true"

    @property
    def env(self) -> list[str]:
        raw = self.attributes.get("env", "")
        return [name for name in re.split(r"[,\s]+", raw) if name]


class Frontmatter(BaseModel):
    """The spec fields of SKILL.md, as read (values may be of the wrong type; validate says so)."""

    name: Any = None
    description: Any = None
    license: Any = None
    compatibility: Any = None
    metadata: Any = None
    allowed_tools: Any = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Skill(BaseModel):
    """A parsed skill folder."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    folder: Path
    skill_md: Path
    frontmatter: Frontmatter
    lifecycle: Lifecycle | None = None
    body: str
    body_line: int
    checks: list[Check] = Field(default_factory=list)
    key_lines: dict[str, int] = Field(default_factory=dict)
    diagnostics: list[Diagnostic] = Field(default_factory=list)

    @property
    def description(self) -> str:
        return self.frontmatter.description if isinstance(self.frontmatter.description, str) else ""

    @property
    def trust(self) -> str:
        return (self.lifecycle.trust if self.lifecycle and self.lifecycle.trust else "community")


class Finding(BaseModel):
    """A security finding from ``scan``."""

    rule_id: str
    category: str
    severity: Literal["info", "low", "medium", "high", "critical"]
    path: str
    line: int | None = None
    message: str
    snippet: str = ""
    remediation: str = ""
    suppressed: bool = False
    suppression_reason: str | None = None
    blocking: bool = False


class Approval(BaseModel):
    """A human lifting a quarantine: who, when, why, and for which content digest."""

    by: str
    at: datetime
    reason: str
    digest: str | None = None


class LockEntry(BaseModel):
    """One skill's lifecycle verdict in ``skills.lock``."""

    version: str | None = None
    digest: str | None = None
    status: Status = "draft"
    reason: str = ""
    since: datetime | None = None
    verified_at: datetime | None = None
    verified_commit: str | None = None
    expires_at: datetime | None = None
    checks: dict[str, str] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    findings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    approval: Approval | None = None
    path: str | None = None


class Lock(BaseModel):
    """The whole ``skills.lock``: the committed source of truth for lifecycle state."""

    version: Literal[1] = 1
    skills: dict[str, LockEntry] = Field(default_factory=dict)
