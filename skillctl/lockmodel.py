"""Persisted lifecycle models (pydantic): they are read back from ``skills.lock``, a file
people edit and merge, so every field is validated on the way in."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from skillctl.model import Status


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
    # Provenance of a skill brought in by ``import``: where it came from and the trust tier that
    # source earns (the repo grants tiers, never the skill's own text; see policy.py).
    origin: str | None = None
    trust: str | None = None
    source: str | None = None


class Lock(BaseModel):
    """The whole ``skills.lock``: the committed source of truth for lifecycle state."""

    version: Literal[1] = 1
    skills: dict[str, LockEntry] = Field(default_factory=dict)
