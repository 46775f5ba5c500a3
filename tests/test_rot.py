"""Judging pins: each finding, the policy that turns findings into staleness, and time edges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from skillctl.config import RepoConfig, parse_config
from skillctl.errors import ConfigError
from skillctl.model import Pin
from skillctl.rot import RotPolicy, judge
from skillctl.rot.registries.base import PinInfo, PinMalformed, PinMissing, PinUnreachable, Release
from skillctl.rot.registries.resolve import Lookup

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def rel(version, days_ago=100, **kw):
    return Release(version, NOW - days_ago * DAY, **kw)


DEFAULT = RotPolicy()


def run(datasource, package, version, releases=(), policy=DEFAULT, now=NOW, **info):
    pin = Pin(datasource=datasource, package=package, version=version)
    lookup = Lookup(datasource, package, "http://x", info=PinInfo(datasource, package, list(releases), **info))
    return judge(pin, lookup, policy, now)


def kinds(report):
    return [(f.kind, f.level) for f in report.findings]


def test_current_pin_is_ok():
    r = run("pypi", "jsonschema", "4.24.1", [rel("4.23.0", 400), rel("4.24.1", 80)])
    assert kinds(r) == [("ok", None)]
    assert "latest release" in r.findings[0].message


@pytest.mark.parametrize(("pinned", "level"), [("1.26.5", "major"), ("2.4.0", "minor"), ("2.5.0rc1", "patch")])
def test_outdated_levels_and_latest(pinned, level):
    r = run("pypi", "urllib3", pinned, [rel("1.26.5", 900), rel("2.4.0", 200), rel("2.5.0rc1", 120), rel("2.5.0")])
    assert kinds(r) == [("outdated", level)]
    assert r.latest == "2.5.0" and r.findings[0].latest == "2.5.0"


def test_default_policy_blocks_major_not_minor():
    policy = RotPolicy()
    major = run("pypi", "urllib3", "1.26.5", [rel("1.26.5", 900), rel("2.5.0")])
    minor = run("pypi", "requests", "2.25.1", [rel("2.25.1", 900), rel("2.32.5")])
    assert major.blocking(policy) and not minor.blocking(policy)
    strict = RotPolicy(stale_on=frozenset({"outdated"}))
    assert minor.blocking(strict)


def test_yanked_pin_and_yanked_releases_never_latest():
    r = run("pypi", "requests", "2.32.0", [
        rel("2.31.0", 500), rel("2.32.0", 300, yanked=True, note="conflicts with CVE-2024-35195 mitigation"),
        rel("2.32.1", 299, yanked=True)])
    assert ("yanked", None) in kinds(r)
    assert "CVE-2024-35195" in r.findings[0].message
    assert r.latest == "2.31.0"  # the only installable release; nothing newer to move to
    assert r.blocking(RotPolicy())


def test_deprecated_package_and_version():
    r = run("npm", "request", "2.88.2", [rel("2.88.2", 1000, deprecated="request has been deprecated")],
            latest="2.88.2", deprecated="latest version is deprecated: request has been deprecated")
    assert [k for k, _ in kinds(r)].count("deprecated") == 1
    helm = run("helm", "x/oldchart", "1.4.0", [rel("1.4.0", 10, deprecated="chart is marked deprecated")])
    assert ("deprecated", None) in kinds(helm)


def test_missing_version_only_when_history_is_complete():
    history = [rel("1.0.0"), rel("1.1.0")]
    assert ("missing", None) in kinds(run("pypi", "p", "0.9.0", history))
    assert ("missing", None) not in kinds(run("github-releases", "o/r", "v0.9.0", history, complete=False))


def test_abandoned_boundary_is_inclusive():
    releases = [Release("1.0.0", NOW - 540 * DAY)]
    assert ("abandoned", None) in kinds(run("pypi", "p", "1.0.0", releases))
    assert ("abandoned", None) not in kinds(run("pypi", "p", "1.0.0", releases, now=NOW - timedelta(seconds=1)))
    shorter = RotPolicy(abandoned_after=30 * DAY)
    assert ("abandoned", None) in kinds(run("pypi", "p", "1.0.0", [rel("1.0.0", 31)], policy=shorter))


def test_minimum_release_age_hides_fresh_releases():
    releases = [rel("1.0.0", 300), rel("2.0.0", 1)]
    assert kinds(run("pypi", "p", "1.0.0", releases)) == [("outdated", "major")]
    careful = RotPolicy(min_release_age=3 * DAY)
    r = run("pypi", "p", "1.0.0", releases, policy=careful)
    assert kinds(r) == [("ok", None)] and r.latest == "1.0.0"


def test_prereleases_are_not_latest_unless_pinned():
    releases = [rel("7.6.3", 300), rel("7.7.2", 50), rel("8.0.0-beta.1", 5)]
    assert run("npm", "semver", "7.6.3", releases).latest == "7.7.2"
    assert run("npm", "semver", "8.0.0-beta.0", [*releases, rel("8.0.0-beta.0", 9)]).latest == "8.0.0-beta.1"


def test_npm_latest_dist_tag_caps_latest():
    releases = [rel("4.0.0", 100), rel("5.0.0", 10)]  # 5.0.0 published under "next" only
    assert kinds(run("npm", "x", "4.0.0", releases, latest="4.0.0")) == [("ok", None)]


def test_ranges_track_latest_or_report_how_far_behind():
    releases = [rel("1.2.0", 400), rel("1.9.0", 100), rel("2.1.0", 10)]
    caret = run("npm", "x", "^1.2", releases)
    assert caret.resolved == "1.9.0" and kinds(caret) == [("outdated", "major")]
    assert kinds(run("npm", "x", ">=1.2", releases)) == [("ok", None)]
    nothing = run("npm", "x", "^3", releases)
    assert kinds(nothing) == [("missing", None)]


def test_docker_compares_within_variant():
    tags = [Release(t) for t in ["3.8-slim", "3.13-slim", "3.14-alpine", "3.14.0rc2-slim", "latest"]]
    r = run("docker", "python", "3.8-slim", tags)
    assert kinds(r) == [("outdated", "minor")] and r.latest == "3.13-slim"
    assert ("abandoned", None) not in kinds(r)


def test_tool_versions():
    assert kinds(run("tool", "python3", ">=3.10", [Release("3.11.7")], latest="3.11.7")) == [("ok", None)]
    old = run("tool", "python3", ">=3.10", [Release("3.8.10")], latest="3.8.10")
    assert kinds(old) == [("missing", None)] and "needs >=3.10" in old.findings[0].message
    newer = run("tool", "jq", "1.6", [Release("1.7.1")], latest="1.7.1")
    assert kinds(newer) == [("outdated", "minor")]


@pytest.mark.parametrize(("version", "meta", "expected"), [
    ("*", {"status": "200"}, [("ok", None)]),
    ('etag:"abc"', {"etag": '"abc"'}, [("ok", None)]),
    ('etag:"abc"', {"etag": 'W/"abd"'}, [("outdated", "changed")]),
    ("2022-06-08", {"last_modified": "Thu, 08 Jun 2022 21:45:05 GMT"}, [("ok", None)]),
    ("2022-06-07", {"last_modified": "Thu, 08 Jun 2022 21:45:05 GMT"}, [("outdated", "changed")]),
])
def test_url_pins(version, meta, expected):
    from skillctl.rot.registries.base import parse_time

    modified = None
    if "last_modified" in meta:
        from email.utils import parsedate_to_datetime

        modified = parse_time(parsedate_to_datetime(meta["last_modified"]))
    r = run("url", "https://example.org/x.csv", version, [Release(meta.get("etag", ""), modified)], meta=meta)
    assert kinds(r) == expected
    assert not r.blocking(RotPolicy())


@pytest.mark.parametrize(("error", "kind"), [
    (PinMissing("HTTP 404"), "missing"), (PinUnreachable("timed out"), "unreachable"),
    (PinMalformed("not JSON"), "error"),
])
def test_resolver_errors_become_findings(error, kind):
    pin = Pin(datasource="pypi", package="p", version="1.0")
    r = judge(pin, Lookup("pypi", "p", "http://x", error=error), RotPolicy(), NOW)
    assert kinds(r) == [(kind, None)]
    assert bool(r.blocking(RotPolicy())) == (kind == "missing")


def test_unreachable_with_cached_answer_still_judges():
    pin = Pin(datasource="pypi", package="p", version="1.0.0")
    info = PinInfo("pypi", "p", [rel("1.0.0", 10, yanked=True), rel("0.9.0", 20)])
    r = judge(pin, Lookup("pypi", "p", "http://x", info=info, error=PinUnreachable("timed out"),
                          source="stale-cache"), RotPolicy(), NOW)
    assert {k for k, _ in kinds(r)} == {"unreachable", "yanked"}
    assert "last cached answer" in r.findings[0].message


def test_policy_from_config():
    policy = RotPolicy.from_config(parse_config({"policy": {"stale_on": ["yanked", "minor"], "abandoned_after": "52w",
                                                            "min_release_age": 3}}, {}))
    assert policy.stale_on == {"yanked", "minor"}
    assert policy.abandoned_after == timedelta(weeks=52) and policy.min_release_age == 3 * DAY
    assert RotPolicy.from_config(RepoConfig()).stale_on == {"yanked", "deprecated", "missing", "major"}


@pytest.mark.parametrize(("policy", "needle"), [
    ({"stale_on": ["unreachable"]}, "never demotes"),
    ({"stale_on": "major"}, "expected a list"),
    ({"abandoned_after": "soon"}, "abandoned_after"),
])
def test_bad_policy_is_a_config_error(policy, needle):
    with pytest.raises(ConfigError) as exc:
        RotPolicy.from_config(parse_config({"policy": policy}, {}))
    assert needle in str(exc.value)
