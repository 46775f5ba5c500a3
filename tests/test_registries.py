"""Every resolver against a real HTTP server on 127.0.0.1 serving recorded-shape documents,
and every way a registry can misbehave: each is one pin's finding, never a crash or a hang."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from werkzeug import Response

from skillctl.model import Pin
from skillctl.rot import RotPolicy, judge
from skillctl.rot.registries.base import base_url_for, env_name
from skillctl.rot.registries.resolve import ResolveOptions, pin_key, resolve_pins

FIXTURES = Path(__file__).resolve().parents[1] / "skills_repo" / "registry-snapshot"
FAST = ResolveOptions(timeout=1.0, retries=1, concurrency=4)


def doc(rel: str) -> str:
    return (FIXTURES / rel).read_text()


def lookup(pin: Pin, registries: dict[str, str], root: Path | None = None, options: ResolveOptions = FAST):
    result = resolve_pins([pin], root=root, registries=registries, options=options, environ={})
    return result[pin_key(pin, registries, {})[0]]


def pypi_pin(package="requests", version="2.25.1"):
    return Pin(datasource="pypi", package=package, version=version)


def test_pypi_document(httpserver):
    httpserver.expect_request("/pypi/requests/json").respond_with_data(doc("pypi/requests.json"),
                                                                       content_type="application/json")
    lk = lookup(pypi_pin("Requests"), {"pypi": httpserver.url_for("")})
    assert lk.error is None and lk.info.latest == "2.32.5"
    yanked = lk.info.release("2.32.0")
    assert yanked.yanked and "CVE-2024-35195" in yanked.note
    assert lk.info.release("2.25.1").uploaded_at.year == 2020


def test_npm_scoped_package_and_deprecation(httpserver):
    httpserver.expect_request("/@commitlint/cli").respond_with_data(doc("npm/@commitlint__cli.json"))
    lk = lookup(Pin(datasource="npm", package="@commitlint/cli", version="19.5.0"), {"npm": httpserver.url_for("")})
    assert lk.error is None and lk.info.latest == "19.8.1"
    httpserver.expect_request("/gone").respond_with_json({"name": "gone", "time": {"unpublished": {"time": "x"}}})
    gone = lookup(Pin(datasource="npm", package="gone", version="1.0.0"), {"npm": httpserver.url_for("")})
    assert gone.error.kind == "missing" and "unpublished" in gone.error.message


def test_github_releases_paginate_and_skip_drafts(httpserver):
    base = httpserver.url_for("")
    page1 = [{"tag_name": "v2.0.0", "published_at": "2026-01-01T00:00:00Z", "draft": False, "prerelease": False},
             {"tag_name": "v3.0.0", "published_at": None, "draft": True, "prerelease": False}]
    page2 = [{"tag_name": "v1.0.0", "published_at": "2024-01-01T00:00:00Z", "draft": False, "prerelease": False}]
    httpserver.expect_request("/repos/o/r/releases", query_string="per_page=100").respond_with_json(
        page1, headers={"Link": f'<{base}/repos/o/r/releases?page=2>; rel="next"'})
    httpserver.expect_request("/repos/o/r/releases", query_string="page=2").respond_with_json(page2)
    lk = lookup(Pin(datasource="github-releases", package="o/r", version="v1.0.0"), {"github-releases": base})
    assert [r.version for r in lk.info.releases] == ["v2.0.0", "v1.0.0"] and lk.info.complete


def test_docker_anonymous_token_flow(httpserver):
    base = httpserver.url_for("")

    def tags(request):
        if request.headers.get("Authorization") != "Bearer t0k":
            return Response("{}", 401, {"WWW-Authenticate": f'Bearer realm="{base}/token",service="test"'})
        return Response(doc("docker/library__python.json"), 200, {"Content-Type": "application/json"})

    httpserver.expect_request("/v2/library/python/tags/list").respond_with_handler(tags)
    httpserver.expect_request("/token", query_string={"service": "test", "scope": "repository:library/python:pull"}
                              ).respond_with_json({"token": "t0k"})
    lk = lookup(Pin(datasource="docker", package="python", version="3.8-slim"), {"docker": base})
    assert lk.error is None and "3.13-slim" in [r.version for r in lk.info.releases]


def test_helm_index_fetched_once_for_many_charts(httpserver):
    httpserver.expect_request("/index.yaml").respond_with_data(doc("helm/index.yaml"))
    pins = [Pin(datasource="helm", package=f"bitnami/{c}", version="1.0.0") for c in ("nginx", "oldchart", "nope")]
    regs = {"helm.bitnami": httpserver.url_for("")}
    result = resolve_pins(pins, root=None, registries=regs, options=FAST, environ={})
    found = {lk.package: lk for lk in result.values()}
    assert found["bitnami/nginx"].info.releases[0].version == "19.1.0"
    assert found["bitnami/oldchart"].info.deprecated
    assert found["bitnami/nope"].error.kind == "missing"
    assert len(httpserver.log) == 1


def test_url_head_and_405_fallback(httpserver):
    httpserver.expect_request("/a.csv", method="HEAD").respond_with_data(
        "", headers={"ETag": '"v1"', "Last-Modified": "Thu, 08 Jun 2022 21:45:05 GMT"})
    httpserver.expect_request("/b.json", method="HEAD").respond_with_data("", status=405)
    httpserver.expect_request("/b.json", method="GET").respond_with_data("{}", headers={"ETag": '"v2"'})
    httpserver.expect_request("/gone", method="HEAD").respond_with_data("", status=410)
    regs = {"url": httpserver.url_for("")}
    a = lookup(Pin(datasource="url", package="https://example.org/a.csv", version='etag:"v1"'), regs)
    assert a.info.meta["etag"] == '"v1"' and a.info.releases[0].uploaded_at.year == 2022
    b = lookup(Pin(datasource="url", package="https://example.org/b.json", version="*"), regs)
    assert b.info.meta["etag"] == '"v2"'
    missing = lookup(Pin(datasource="url", package="https://example.org/gone", version="*"), regs)
    assert missing.error.kind == "missing"


def test_tool_runs_bare_names_only(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "mytool"
    script.write_text("#!/bin/sh\necho 'mytool version 1.7.1 (build abc)'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    ok = lookup(Pin(datasource="tool", package="mytool", version="^1.7"), {})
    assert ok.info.latest == "1.7.1" and ok.source == "local"
    assert lookup(Pin(datasource="tool", package="./mytool", version="1"), {}).error.kind == "error"
    assert lookup(Pin(datasource="tool", package="no-such-tool-xyz", version="1"), {}).error.kind == "missing"


def test_tool_that_hangs_is_killed(tmp_path, monkeypatch):
    from skillctl.rot.registries import tool

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "hangs").write_text("#!/bin/sh\nsleep 30\n")
    (bindir / "hangs").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(tool, "TIMEOUT", 0.3)
    start = time.monotonic()
    lk = lookup(Pin(datasource="tool", package="hangs", version="1"), {})
    assert lk.error.kind == "unreachable" and time.monotonic() - start < 5


# --- malformed answers: each one pin's finding ----------------------------------------------

def _slow(request):
    time.sleep(3)
    return Response("{}", 200)


@pytest.mark.parametrize(("setup", "kind", "needle"), [
    (lambda s: s.respond_with_data("<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
     "error", "not JSON (text/html"),
    (lambda s: s.respond_with_data('{"info": {"name": "requests", "vers', content_type="application/json"),
     "error", "not JSON"),
    (lambda s: s.respond_with_json(["not", "an", "object"]), "error", "no 'info' object"),
    (lambda s: s.respond_with_json({"info": {}, "releases": {"1.0": "oops"}}), "error", "not a list of files"),
    (lambda s: s.respond_with_data("boom", status=500), "unreachable", "HTTP 500"),
    (lambda s: s.respond_with_data("", status=403), "unreachable", "access denied"),
    (lambda s: s.respond_with_handler(_slow), "unreachable", "timed out"),
    (lambda s: s.respond_with_data("", status=302, headers={"Location": "/pypi/requests/json"}),
     "unreachable", "redirect"),
])
def test_malformed_answers_are_findings(httpserver, setup, kind, needle):
    setup(httpserver.expect_request("/pypi/requests/json"))
    options = ResolveOptions(timeout=2.0, retries=1)  # generous for busy CI; _slow outlasts it
    lk = lookup(pypi_pin(), {"pypi": httpserver.url_for("")}, options=options)
    assert lk.error is not None and lk.error.kind == kind, lk.error
    assert needle in lk.error.message
    report = judge(pypi_pin(), lk, RotPolicy(), __import__("skillctl.clock").clock.utcnow())
    assert [f.kind for f in report.findings] == [kind]


def test_retries_then_gives_up(httpserver):
    httpserver.expect_request("/pypi/flaky/json").respond_with_data("busy", status=503)
    lk = lookup(pypi_pin("flaky"), {"pypi": httpserver.url_for("")}, options=ResolveOptions(timeout=1, retries=2))
    assert lk.error.kind == "unreachable" and "3 attempts" in lk.error.message
    assert sum(1 for req, _ in httpserver.log if req.path == "/pypi/flaky/json") == 3


def test_connection_refused_is_unreachable():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lk = lookup(pypi_pin(), {"pypi": f"http://127.0.0.1:{port}"}, options=ResolveOptions(timeout=1, retries=0))
    assert lk.error.kind == "unreachable"


def test_one_slow_registry_does_not_hold_up_the_others(httpserver):
    """The slow registry is its own server (as in real life), so only the timeout can hold us."""
    import http.server
    import threading

    release = threading.Event()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            release.wait(10)

        def log_message(self, *args):
            pass

    slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    httpserver.expect_request("/pypi/requests/json").respond_with_data(doc("pypi/requests.json"))
    pins = [pypi_pin(), Pin(datasource="npm", package="slow", version="1")]
    try:
        start = time.monotonic()
        result = resolve_pins(pins, root=None, registries={"pypi": httpserver.url_for(""),
                                                           "npm": f"http://127.0.0.1:{slow.server_port}"},
                              options=ResolveOptions(timeout=1.0, retries=0), environ={})
        elapsed = time.monotonic() - start
    finally:
        release.set()
        slow.shutdown()
        slow.server_close()
    assert elapsed < 8  # bounded by the timeout, not by the 10 s the slow server would take
    kinds = sorted((lk.package, lk.error.kind if lk.error else "ok") for lk in result.values())
    assert kinds == [("requests", "ok"), ("slow", "unreachable")]


def test_unknown_datasource_and_unconfigured_helm_repo():
    pins = [Pin(datasource="cargo", package="serde", version="1"),
            Pin(datasource="helm", package="acme/app", version="1.0.0")]
    result = resolve_pins(pins, root=None, registries={}, environ={})
    errors = {lk.package: lk.error.message for lk in result.values()}
    assert "unknown datasource 'cargo'" in errors["serde"]
    assert "SKILLCTL_REGISTRY_HELM_ACME" in errors["acme/app"] and "helm.acme" in errors["acme/app"]


def test_base_url_precedence():
    regs = {"pypi": "https://mirror.example/", "helm": "https://charts.example", "helm.bitnami": "https://b.example"}
    assert base_url_for("pypi", "x", {}, {}) == "https://pypi.org"
    assert base_url_for("pypi", "x", regs, {}) == "https://mirror.example"
    env = {env_name("pypi"): "http://127.0.0.1:9"}
    assert base_url_for("pypi", "x", regs, env) == "http://127.0.0.1:9"
    assert env_name("github-releases") == "SKILLCTL_REGISTRY_GITHUB_RELEASES"
    assert base_url_for("helm", "bitnami/nginx", regs, {}) == "https://b.example"
    assert base_url_for("helm", "other/nginx", regs, {}) == "https://charts.example"
    assert base_url_for("helm", "bitnami/nginx", regs, {"SKILLCTL_REGISTRY_HELM_BITNAMI": "http://h"}) == "http://h"
    assert base_url_for("docker", "ghcr.io/o/i", {}, {}) == "https://ghcr.io"
    assert base_url_for("url", "https://api.example/v1/x.json", {}, {}) == "https://api.example"


def test_fixture_documents_are_valid_json():
    for path in FIXTURES.rglob("*.json"):
        json.loads(path.read_text())


def test_a_dead_registry_is_given_up_on_quickly():
    """A host that accepts connections but never answers: after a few timeouts, stop asking."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(128)  # the kernel completes handshakes; nobody ever reads or answers
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        pins = [pypi_pin(f"p{i}") for i in range(40)]
        start = time.monotonic()
        result = resolve_pins(pins, root=None, registries={"pypi": base},
                              options=ResolveOptions(timeout=0.3, retries=0, concurrency=2), environ={})
        elapsed = time.monotonic() - start
    assert {lk.error.kind for lk in result.values()} == {"unreachable"}
    assert elapsed < 3, elapsed  # 40 pins x 0.3 s / 2 workers would be 6 s
    assert sum("stopped answering" in lk.error.message for lk in result.values()) >= 30
