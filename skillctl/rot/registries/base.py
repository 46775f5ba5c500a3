"""The one interface every datasource implements, and what a resolver returns.

A resolver module (``pypi.py``, ``npm.py``, ...) exposes:

- ``DEFAULT_BASE_URL``: the public host (None when the datasource has no host, like ``tool``);
- ``NETWORK``: whether answers come over HTTP (and so are cached and need ``--offline`` care);
- ``resolve(pin, client, base_url) -> PinInfo``, raising ``PinMissing`` (the registry says the
  package does not exist), ``PinUnreachable`` (no usable answer: network, timeout, 5xx) or
  ``PinMalformed`` (an answer that cannot be interpreted).

Resolvers only *describe* the package; deciding whether that is rot is ``skillctl.rot``'s job,
so the same PinInfo can be judged under different policies and served from the cache.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

from skillctl.errors import RegistryError

RESOLVERS = {
    "pypi": "pypi", "npm": "npm", "github-releases": "github_releases", "docker": "docker",
    "helm": "helm", "tool": "tool", "url": "url",
}
ENV_PREFIX = "SKILLCTL_REGISTRY_"
_FRACTION_RE = re.compile(r"(\.\d+)")


@dataclass(frozen=True)
class Release:
    """One published version as the registry describes it."""

    version: str
    uploaded_at: datetime | None = None
    yanked: bool = False
    deprecated: str | None = None
    prerelease: bool = False
    note: str | None = None


@dataclass
class PinInfo:
    """Everything a registry told us about one package (not about one pin)."""

    datasource: str
    package: str
    releases: list[Release] = field(default_factory=list)
    latest: str | None = None
    deprecated: str | None = None
    complete: bool = True
    """False when the registry paginates and we stopped early: absence proves nothing."""
    meta: dict[str, str] = field(default_factory=dict)

    def release(self, version: str) -> Release | None:
        return next((r for r in self.releases if r.version == version), None)

    def to_json(self) -> dict[str, Any]:
        """Compact form for the cache: releases as rows, times as epoch seconds (fast to load)."""
        return {
            "datasource": self.datasource, "package": self.package, "latest": self.latest,
            "deprecated": self.deprecated, "complete": self.complete, "meta": self.meta,
            "releases": [[r.version, r.uploaded_at.timestamp() if r.uploaded_at else None, r.yanked,
                          r.deprecated, r.prerelease, r.note] for r in self.releases],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PinInfo:
        stamp = datetime.fromtimestamp
        releases = [Release(v, stamp(t, timezone.utc) if t is not None else None, y, d, p, n)
                    for v, t, y, d, p, n in data["releases"]]
        return cls(data["datasource"], data["package"], releases, data["latest"], data["deprecated"],
                   data["complete"], data["meta"])


class ResolveError(RegistryError):
    """A per-pin failure. It becomes a finding for that pin; it never aborts an audit."""

    kind = "error"
    code = "SC051"


class PinMissing(ResolveError):
    kind = "missing"
    code = "SC052"


class PinUnreachable(ResolveError):
    kind = "unreachable"
    code = "SC053"


class PinMalformed(ResolveError):
    kind = "error"
    code = "SC054"


@functools.cache
def resolver(datasource: str) -> ModuleType:
    """The resolver module for *datasource* (imported on first use)."""
    name = RESOLVERS.get(datasource)
    if name is None:
        raise PinMalformed(f"unknown datasource {datasource!r} (known: {', '.join(RESOLVERS)})")
    return importlib.import_module(f"skillctl.rot.registries.{name}")


def env_name(datasource: str, qualifier: str | None = None) -> str:
    """``github-releases`` -> ``SKILLCTL_REGISTRY_GITHUB_RELEASES`` (+ ``_<QUALIFIER>``)."""
    name = ENV_PREFIX + datasource.upper().replace("-", "_").replace(".", "_")
    if qualifier:
        name += "_" + "".join(ch if ch.isalnum() else "_" for ch in qualifier.upper())
    return name


def base_url_for(datasource: str, package: str, registries: Mapping[str, str],
                 environ: Mapping[str, str] | None = None) -> str | None:
    """Where to ask about *package*: env var, then ``skillctl.yaml`` ``registries``, then public host.

    Helm repositories are named per pin (``bitnami/nginx``), so ``helm.<repo>`` keys (and
    ``SKILLCTL_REGISTRY_HELM_<REPO>``) select one repository and plain ``helm`` serves them all.
    """
    env = os.environ if environ is None else environ
    module = resolver(datasource)
    qualifier = module.qualifier(package) if hasattr(module, "qualifier") else None
    candidates = []
    if qualifier:
        candidates += [env.get(env_name(datasource, qualifier)), registries.get(f"{datasource}.{qualifier}")]
    candidates += [env.get(env_name(datasource)), registries.get(datasource)]
    for value in candidates:
        if value:
            return value.rstrip("/")
    default = module.default_base_url(package) if hasattr(module, "default_base_url") else module.DEFAULT_BASE_URL
    return default.rstrip("/") if default else None


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` or an offset, naive means UTC) -> aware UTC; garbage -> None."""
    dt: datetime | None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        try:  # fast path: what the cache stores and most registries send
            dt = datetime.fromisoformat(value)
        except ValueError:
            dt = None
        if dt is not None:
            return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00").replace(" ", "T", 1)
        text = _FRACTION_RE.sub(lambda m: m.group(1)[:7].ljust(7, "0"), text)
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def expect(condition: bool, message: str) -> None:
    """Schema check for registry documents: a wrong shape is a per-pin ``error`` finding."""
    if not condition:
        raise PinMalformed(message)
