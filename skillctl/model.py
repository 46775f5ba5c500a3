"""The data skillctl reasons about.

Parsing (``parse.py``) turns files into these; everything downstream (validate, scan, verify,
lock, loader) consumes them. They are deliberately permissive about what they *hold* (a
lenient parse must represent a messy real-world skill); ``validate.py`` enforces the rules,
with a diagnostic per problem instead of one validation exception.

Two kinds of model live here. The records on the hot path of ``validate``/``scan`` (Skill,
Frontmatter, Lifecycle, Pin, Check, Diagnostic, Finding) are stdlib dataclasses: importing
pydantic alone costs ~100 ms, more than the whole reference validator's start-up, and these
records are built by our own parser, not from untrusted dicts. The persisted models that *are*
read from untrusted files (Lock, LockEntry, Approval) are pydantic, defined in ``lockmodel.py``
and imported from here lazily. pydantic can still validate the dataclasses via TypeAdapter.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

# re-exported: records and their vocabulary are imported together
from skillctl.vocab import DATASOURCES as DATASOURCES
from skillctl.vocab import ORIGINS as ORIGINS
from skillctl.vocab import STATUSES as STATUSES
from skillctl.vocab import TRUST_TIERS as TRUST_TIERS
from skillctl.vocab import FindingSeverity
from skillctl.vocab import Status as Status
from skillctl.vocab import parse_duration as parse_ttl

CHECK_LANGUAGES = ("bash", "sh", "python")
CHECK_ATTRIBUTES = ("check", "timeout", "network", "env")
SPEC_FIELDS = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")



class Severity(str, Enum):
    """Diagnostic severity. ``error`` fails ``validate``; the others inform."""

    error = "error"
    warning = "warning"
    info = "info"


class Record:
    """The two pydantic-style conveniences callers use on records: dump and copy."""

    def model_dump(self, mode: str = "python", exclude_none: bool = False) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        if mode == "json":
            data = _jsonable(data)
        if exclude_none:
            data = {k: v for k, v in data.items() if v is not None}
        return data

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        return replace(self, **(update or {}))  # type: ignore[type-var]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass(frozen=True, kw_only=True)
class Diagnostic(Record):
    """One problem found in a file, with a stable code a user can search for."""

    code: str
    severity: Severity
    path: str
    line: int | None = None
    message: str

    def render(self) -> str:
        loc = f"{self.path}:{self.line}" if self.line else self.path
        return f"{loc}: {self.code} {self.severity.value}: {self.message}"


@dataclass(kw_only=True)
class Pin(Record):
    """An outside thing a skill depends on, pinned so rot can be detected."""

    datasource: str
    package: str
    version: str
    line: int | None = None


@dataclass(kw_only=True)
class Lifecycle(Record):
    """The ``metadata.skillctl`` block: what skillctl needs to manage a skill's life."""

    version: str | None = None
    owner: str | None = None
    ttl: str | None = None
    origin: str | None = None
    trust: str | None = None
    pins: list[Pin] = field(default_factory=list)

    def ttl_delta(self) -> timedelta | None:
        return parse_ttl(self.ttl)


@dataclass(kw_only=True)
class Check(Record):
    """One verification step: a fenced block in the ``## Verification`` section."""

    id: str | None
    language: str
    code: str
    line: int
    attributes: dict[str, str] = field(default_factory=dict)
    expected_output: str | None = None

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


@dataclass(kw_only=True)
class Frontmatter(Record):
    """The spec fields of SKILL.md, as read (values may be of the wrong type; validate says so)."""

    name: Any = None
    description: Any = None
    license: Any = None
    compatibility: Any = None
    metadata: Any = None
    allowed_tools: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Skill(Record):
    """A parsed skill folder."""

    name: str
    folder: Path
    skill_md: Path
    frontmatter: Frontmatter
    lifecycle: Lifecycle | None = None
    body: str
    body_line: int
    checks: list[Check] = field(default_factory=list)
    key_lines: dict[str, int] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def description(self) -> str:
        return self.frontmatter.description if isinstance(self.frontmatter.description, str) else ""


@dataclass(kw_only=True)
class Finding(Record):
    """A security finding from ``scan``."""

    rule_id: str
    category: str
    severity: FindingSeverity
    path: str
    line: int | None = None
    message: str
    snippet: str = ""
    remediation: str = ""
    suppressed: bool = False
    suppression_reason: str | None = None
    blocking: bool = False


_LAZY = ("Approval", "LockEntry", "Lock")


def __getattr__(name: str) -> Any:
    """``from skillctl.model import LockEntry`` loads pydantic only for code that needs it."""
    if name in _LAZY:
        from skillctl import lockmodel

        return getattr(lockmodel, name)
    raise AttributeError(f"module 'skillctl.model' has no attribute {name!r}")
