"""Persisted lifecycle models (pydantic): they are read back from ``skills.lock``, a file
people edit and merge, so every field is validated on the way in."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from skillctl.model import Status

Tier = Literal["builtin", "team", "community", "synthesized"]


class Approval(BaseModel):
    """A human vouching for one content digest: who, when, why, and what they granted.

    Lifting a quarantine accepts the findings; ``tier`` grants a trust tier (``policy.
    effective_tier``); ``allow`` lifts a capability refusal (``policy.capability_problem``).
    All of it holds only while the files still hash to ``digest``.
    """

    by: str
    at: datetime
    reason: str
    digest: str | None = None
    tier: Tier | None = None
    allow: list[str] = Field(default_factory=list)


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
    tier: Tier | None = None
    """The effective tier the verdict was reached at (policy.effective_tier); a lower one voids it."""
    source_tier: Tier | None = None
    """Tier of the source an imported skill came from, recorded when the import landed."""
    signed_by: str | None = None
    signature: str | None = None
    """SSH signature (base64 body) over ``signing.payload`` by the principal ``signed_by``."""


class Lock(BaseModel):
    """The whole ``skills.lock``: the committed source of truth for lifecycle state."""

    version: Literal[1] = 1
    skills: dict[str, LockEntry] = Field(default_factory=dict)
