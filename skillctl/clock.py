"""The one place skillctl reads the time, so freezegun controls every TTL decision in tests."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Current time as an aware UTC datetime, truncated to whole seconds for stable locks."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime from a lock (maybe naive, maybe another offset) to aware UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_ts(value: datetime) -> str:
    """``2026-11-20T10:00:00Z``: the lock's timestamp spelling."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
