"""Resolve many pins at once: dedupe, answer from the cache, fetch the rest concurrently.

Three hundred skills pinning the same ten packages must cost ten requests, not a thousand:
pins are keyed by (datasource, base URL, package) and each key is resolved once. Answers are
kept in ``.skillctl/state.db`` for ``cache_ttl`` so a second audit costs no network at all;
``--offline`` answers from the cache whatever its age. When a registry cannot be reached, the
last known answer (if any) is still used, flagged as stale, so one flaky mirror degrades the
report instead of blanking it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from skillctl.clock import format_ts, utcnow
from skillctl.model import Pin
from skillctl.rot.registries.base import (
    PinInfo,
    PinMalformed,
    PinMissing,
    PinUnreachable,
    ResolveError,
    base_url_for,
    env_name,
    parse_time,
    resolver,
)


@dataclass(frozen=True)
class ResolveOptions:
    timeout: float = 10.0
    retries: int = 2
    concurrency: int = 16
    cache_ttl: timedelta = timedelta(hours=6)
    offline: bool = False
    refresh: bool = False
    """Ignore fresh cache entries (still write new answers)."""
    snapshot: Path | None = None
    """Answer every network datasource from this folder of recorded documents (no network)."""


@dataclass
class Lookup:
    """What is known about one package: an answer, an error, or a stale answer plus the error."""

    datasource: str
    package: str
    base_url: str | None
    info: PinInfo | None = None
    error: ResolveError | None = None
    source: str = "network"
    fetched_at: datetime | None = None


def pin_key(pin: Pin, registries: Mapping[str, str],
            environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(cache key, base URL) for *pin*; raises ResolveError for an unknown datasource."""
    base = base_url_for(pin.datasource, pin.package, registries, environ)
    return f"{pin.datasource}|{base or ''}|{pin.package}", base


def resolve_pins(pins: Iterable[Pin], *, root: Path | None, registries: Mapping[str, str],
                 options: ResolveOptions = ResolveOptions(),
                 environ: Mapping[str, str] | None = None) -> dict[str, Lookup]:
    """Resolve every distinct package behind *pins*; keys are ``pin_key(pin)[0]``. Never raises
    for a registry's behaviour: failures are recorded on the Lookup."""
    now = utcnow()
    lookups: dict[str, Lookup] = {}
    for pin in pins:
        try:
            key, base = pin_key(pin, registries, environ)
        except ResolveError as exc:
            key, base = f"{pin.datasource}||{pin.package}", None
            lookups.setdefault(key, Lookup(pin.datasource, pin.package, None, error=exc, source="none"))
            continue
        lookups.setdefault(key, Lookup(pin.datasource, pin.package, base))
    pending = {k: lk for k, lk in lookups.items() if lk.error is None}
    for lk in pending.values():
        if lk.base_url is None and resolver(lk.datasource).NETWORK:
            lk.error = PinMalformed(_no_base_message(lk.datasource, lk.package))
            lk.source = "none"
    network = {k: lk for k, lk in pending.items() if lk.error is None and resolver(lk.datasource).NETWORK}
    local = [lk for k, lk in pending.items() if lk.error is None and k not in network]
    # a snapshot is already local and fixed: caching its answers would only write state
    db = _open_cache(root) if root is not None and network and options.snapshot is None else None
    cached = _load(db, list(network)) if db is not None else {}
    to_fetch = []
    for key, lk in network.items():
        hit = cached.get(key)
        offline = options.offline and options.snapshot is None  # a snapshot is local: always readable
        if hit is not None and (offline or (not options.refresh and now - hit[2] < options.cache_ttl)):
            lk.info, lk.error, lk.fetched_at = hit[0], hit[1], hit[2]
            lk.source = "cache"
        elif offline:
            lk.error = PinUnreachable("offline, and no cached registry answer for this package")
            lk.source = "offline-miss"
        else:
            to_fetch.append(key)
    _fetch([network[k] for k in to_fetch] + local, options)
    fresh: list[tuple[str, Lookup]] = []
    for key in to_fetch:
        lk = network[key]
        lk.fetched_at = now
        if lk.info is not None or isinstance(lk.error, PinMissing):
            fresh.append((key, lk))
        elif key in cached and isinstance(lk.error, PinUnreachable):
            lk.info, lk.fetched_at = cached[key][0], cached[key][2]
            lk.source = "stale-cache"
    if db is not None:
        _store(db, fresh)
        db.close()
    return lookups


def _no_base_message(datasource: str, package: str) -> str:
    module = resolver(datasource)
    qual = module.qualifier(package) if hasattr(module, "qualifier") else None
    key = f"{datasource}.{qual}" if qual else datasource
    return (f"no registry URL for {package!r}: set registries: {{{key}: URL}} in skillctl.yaml "
            f"or {env_name(datasource, qual)}")


def _fetch(lookups: list[Lookup], options: ResolveOptions) -> None:
    if not lookups:
        return
    from skillctl.rot.registries.http import RegistryClient

    workers = max(1, min(options.concurrency, len(lookups)))
    transport = None
    if options.snapshot is not None:
        from skillctl.rot.registries.snapshot import transport as snapshot_transport

        transport = snapshot_transport(options.snapshot)
    with RegistryClient(timeout=options.timeout, retries=options.retries, pool_size=workers,
                        transport=transport) as client:

        def run(lk: Lookup) -> None:
            lk.source = "network" if resolver(lk.datasource).NETWORK else "local"
            try:
                lk.info = resolver(lk.datasource).resolve(Pin(datasource=lk.datasource, package=lk.package,
                                                              version="*"), client, lk.base_url)
            except ResolveError as exc:
                lk.error = exc
            except (ValueError, TypeError, KeyError, AttributeError, IndexError, OSError) as exc:
                lk.error = PinMalformed(f"could not interpret the registry answer ({type(exc).__name__}: {exc})")

        if workers == 1:
            for lk in lookups:
                run(lk)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="skillctl-registry") as pool:
            list(pool.map(run, lookups))


def _open_cache(root: Path) -> Any:
    import sqlite3

    from skillctl.state import open_state

    try:
        return open_state(root)
    except (sqlite3.Error, OSError):
        return None  # a cache we cannot open is a cache miss, never a failed audit


def _load(db: Any, keys: list[str]) -> dict[str, tuple[PinInfo | None, ResolveError | None, datetime]]:
    out: dict[str, tuple[PinInfo | None, ResolveError | None, datetime]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(f"SELECT key, outcome, body, fetched_at FROM registry_cache WHERE key IN ({marks})",
                          chunk).fetchall()
        for key, outcome, body, fetched_at in rows:
            when = parse_time(fetched_at)
            if when is None:
                continue
            try:
                if outcome == "missing":
                    out[key] = (None, PinMissing(body), when)
                else:
                    out[key] = (PinInfo.from_json(json.loads(body)), None, when)
            except (ValueError, TypeError, KeyError):
                continue  # an unreadable row is a miss
    return out


def _store(db: Any, fresh: list[tuple[str, Lookup]]) -> None:
    if not fresh:
        return
    rows = [{
        "key": key, "datasource": lk.datasource, "package": lk.package, "base_url": lk.base_url or "",
        "fetched_at": format_ts(lk.fetched_at or utcnow()),
        "outcome": "ok" if lk.info is not None else "missing",
        "body": json.dumps(lk.info.to_json()) if lk.info is not None else (lk.error.message if lk.error else ""),
    } for key, lk in fresh]
    with db.atomic():
        db["registry_cache"].upsert_all(rows, pk="key")
