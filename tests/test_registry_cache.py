"""The registry cache in .skillctl/state.db: its own TTL, --offline, stale fallback, rebuilds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from freezegun import freeze_time

from skillctl.model import Pin
from skillctl.rot.registries.resolve import ResolveOptions, pin_key, resolve_pins
from skillctl.state import MIGRATIONS, open_state, state_path

FIXTURES = Path(__file__).resolve().parents[1] / "skills_repo" / "registry-snapshot"
PIN = Pin(datasource="pypi", package="requests", version="2.25.1")
TTL = ResolveOptions(timeout=10, retries=0, cache_ttl=timedelta(hours=6))  # generous: CI machines are busy


def serve(httpserver):
    httpserver.expect_request("/pypi/requests/json").respond_with_data((FIXTURES / "pypi/requests.json").read_text())
    return {"pypi": httpserver.url_for("")}


def get(root, regs, options=TTL):
    return resolve_pins([PIN], root=root, registries=regs, options=options, environ={})[pin_key(PIN, regs, {})[0]]


def hits(httpserver):
    return sum(1 for req, _ in httpserver.log if req.path == "/pypi/requests/json")


def test_fresh_cache_answers_without_network_until_exactly_ttl(httpserver, tmp_path):
    regs = serve(httpserver)
    with freeze_time("2026-11-20T10:00:00Z") as clock:
        assert get(tmp_path, regs).source == "network"
        clock.tick(timedelta(hours=6) - timedelta(seconds=1))
        again = get(tmp_path, regs)
        assert again.source == "cache" and again.info.latest == "2.32.5" and hits(httpserver) == 1
        clock.tick(timedelta(seconds=1))  # now - fetched_at == ttl: expired
        assert get(tmp_path, regs).source == "network" and hits(httpserver) == 2


def test_offline_uses_any_cached_answer_and_reports_misses(httpserver, tmp_path):
    regs = serve(httpserver)
    with freeze_time("2026-01-01T00:00:00Z"):
        get(tmp_path, regs)
    with freeze_time("2026-11-26T00:00:00Z"):
        offline = get(tmp_path, regs, ResolveOptions(offline=True))
        assert offline.source == "cache" and offline.info is not None
        assert offline.fetched_at.isoformat().startswith("2026-01-01")
        other = Pin(datasource="pypi", package="pandas", version="2.2.3")
        miss = resolve_pins([other], root=tmp_path, registries=regs, options=ResolveOptions(offline=True), environ={})
        assert next(iter(miss.values())).error.kind == "unreachable"
    assert hits(httpserver) == 1


def test_missing_is_cached_but_unreachable_is_not(httpserver, tmp_path):
    httpserver.expect_request("/pypi/nope/json").respond_with_data("{}", status=404)
    httpserver.expect_request("/pypi/down/json").respond_with_data("", status=503)
    regs = {"pypi": httpserver.url_for("")}
    pins = [Pin(datasource="pypi", package=p, version="1") for p in ("nope", "down")]
    for _ in range(2):
        resolve_pins(pins, root=tmp_path, registries=regs, options=TTL, environ={})
    paths = [req.path for req, _ in httpserver.log]
    assert paths.count("/pypi/nope/json") == 1 and paths.count("/pypi/down/json") == 2


def test_unreachable_registry_falls_back_to_stale_cache(httpserver, tmp_path):
    regs = serve(httpserver)
    with freeze_time("2026-11-01T00:00:00Z"):
        get(tmp_path, regs)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/pypi/requests/json").respond_with_data("", status=502)
    with freeze_time("2026-11-26T00:00:00Z"):
        lk = get(tmp_path, regs)
    assert lk.source == "stale-cache" and lk.info.latest == "2.32.5" and lk.error.kind == "unreachable"


def test_lock_written_in_another_timezone_is_read_as_utc(httpserver, tmp_path):
    regs = serve(httpserver)
    with freeze_time("2026-11-20T12:00:00+05:30"):  # == 06:30Z
        get(tmp_path, regs)
    with freeze_time("2026-11-20T12:29:59Z"):  # 5h59m59s later in UTC: still fresh
        assert get(tmp_path, regs).source == "cache"
    with freeze_time("2026-11-20T12:30:00Z"):
        assert get(tmp_path, regs).source == "network"


def test_corrupt_state_db_is_rebuilt(httpserver, tmp_path):
    regs = serve(httpserver)
    get(tmp_path, regs)
    state_path(tmp_path).write_bytes(b"this is not sqlite" * 100)
    assert get(tmp_path, regs).source == "network"
    assert get(tmp_path, regs).source == "cache"


def test_migrations_apply_once_and_are_recorded(tmp_path):
    db = open_state(tmp_path)
    names = [r["name"] for r in db["_migrations"].rows]
    assert names == [fn.__name__ for fn in MIGRATIONS]
    db.close()
    db = open_state(tmp_path)
    assert [r["name"] for r in db["_migrations"].rows] == names
    assert "registry_cache" in db.table_names()
    db.close()
