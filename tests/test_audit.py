"""``skillctl audit`` end to end: a real git repo, a real lock, registries on 127.0.0.1."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import git
import pytest
from conftest import make_skill, skill_text
from freezegun import freeze_time

from skillctl.lock import read_lock, write_lock
from skillctl.lockmodel import Lock, LockEntry

FIXTURES = Path(__file__).resolve().parents[1] / "skills_repo" / "registry-snapshot"
VERIFIED = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)


def pins_block(*pins: tuple[str, str, str], ttl: str = "30d") -> str:
    lines = "".join(f"          - datasource: {d}\n            package: \"{p}\"\n            version: \"{v}\"\n"
                    for d, p, v in pins)
    return textwrap.dedent(f"""\
        metadata:
          skillctl:
            version: 1.0.0
            ttl: {ttl}
            trust: team
            pins:
        """) + lines


@pytest.fixture
def registry(httpserver):
    for name in ("requests", "urllib3", "pandas"):
        httpserver.expect_request(f"/pypi/{name}/json").respond_with_data((FIXTURES / f"pypi/{name}.json").read_text())
    return httpserver


@pytest.fixture
def audit_repo(repo: Path, registry) -> Path:
    """The conftest repo plus two pinned skills, all active, verified 2026-11-01 for 30 days."""
    (repo / "skillctl.yaml").write_text(f"ttl: 30d\nregistries:\n  pypi: {registry.url_for('')}\n")
    make_skill(repo, "fresh-skill", skill_text("fresh-skill", lifecycle=pins_block(("pypi", "pandas", "2.3.2"))))
    make_skill(repo, "rotten-skill", skill_text("rotten-skill", lifecycle=pins_block(
        ("pypi", "requests", "2.25.1"), ("pypi", "urllib3", "1.26.5"))))
    lock = Lock(skills={name: LockEntry(status="active", reason="1/1 checks passed", since=VERIFIED,
                                        verified_at=VERIFIED, expires_at=VERIFIED + timedelta(days=30),
                                        path=f"skills/{name}")
                        for name in ("demo-skill", "fresh-skill", "rotten-skill")})
    write_lock(repo, lock)
    r = git.Repo(repo)
    r.git.add("-A")
    r.git.commit("-m", "skills")
    return repo


def audit(cli, root, *args):
    return cli("audit", "--repo", str(root), *args)


@freeze_time("2026-11-20T12:00:00Z")
def test_pin_rot_demotes_only_the_rotten_skill(cli, audit_repo):
    res = audit(cli, audit_repo)
    assert res.code == 1
    assert "rotten-skill                 active -> stale" in res.out
    assert "urllib3 1.26.5" in res.out and "major update available: 1.26.5 -> 2.5.0" in res.out
    assert "fresh-skill                  active " in res.out
    assert "dry run" in res.err
    assert read_lock(audit_repo).skills["rotten-skill"].status == "active"  # dry run wrote nothing


@freeze_time("2026-11-20T12:00:00Z")
def test_apply_commits_only_the_lock(cli, audit_repo):
    (audit_repo / "notes.txt").write_text("staged by a human\n")
    r = git.Repo(audit_repo)
    r.git.add("notes.txt")
    res = audit(cli, audit_repo, "--apply")
    assert res.code == 1, res.err
    entry = read_lock(audit_repo).skills["rotten-skill"]
    assert entry.status == "stale" and "urllib3 1.26.5" in entry.reason
    assert entry.since == datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    head = r.head.commit
    assert list(head.stats.files) == ["skills.lock"]
    assert head.message.startswith("skillctl: rotten-skill active -> stale (pypi urllib3 1.26.5:")
    assert "notes.txt" in r.git.diff("--cached", "--name-only")  # the human's staged file is untouched
    again = audit(cli, audit_repo, "--apply")  # idempotent: stale stays stale, nothing new to commit
    assert r.head.commit == head and "rotten-skill                 stale " in again.out


@pytest.mark.parametrize(("now", "expired"), [
    ("2026-12-01T09:59:59Z", False),
    ("2026-12-01T10:00:00Z", True),   # exactly at expires_at: no longer trusted
])
def test_ttl_boundary(cli, audit_repo, now, expired):
    with freeze_time(now):
        data = json.loads(audit(cli, audit_repo, "--json", "fresh-skill").out)
    (row,) = data["skills"]
    assert row["expired"] is expired
    assert row["status_after"] == ("stale" if expired else "active")
    assert ("ttl expired at 2026-12-01T10:00:00Z" in row["reasons"]) is expired


def test_lock_written_in_another_timezone(cli, audit_repo):
    lock_file = audit_repo / "skills.lock"
    text = lock_file.read_text().replace("expires_at: 2026-12-01T10:00:00Z", "expires_at: 2026-12-01T15:30:00+05:30")
    lock_file.write_text(text)
    with freeze_time("2026-12-01T09:59:59Z"):
        assert json.loads(audit(cli, audit_repo, "--json", "demo-skill").out)["skills"][0]["expired"] is False
    with freeze_time("2026-12-01T10:00:00Z"):
        assert json.loads(audit(cli, audit_repo, "--json", "demo-skill").out)["skills"][0]["expired"] is True


def test_entry_without_expires_at_uses_verified_at_plus_skill_ttl(cli, audit_repo):
    lock = read_lock(audit_repo)
    lock.skills["fresh-skill"].expires_at = None
    write_lock(audit_repo, lock)
    with freeze_time("2026-12-01T10:00:00Z"):
        row = json.loads(audit(cli, audit_repo, "--json", "fresh-skill").out)["skills"][0]
    assert row["expires_at"] == "2026-12-01T10:00:00+00:00" and row["expired"] is True


@freeze_time("2026-11-20T12:00:00Z")
def test_json_and_sarif(cli, audit_repo):
    data = json.loads(audit(cli, audit_repo, "--json").out)
    assert data["summary"]["transitions"] == 1 and data["policy"]["stale_on"] == ["deprecated", "major",
                                                                                  "missing", "yanked"]
    rotten = next(s for s in data["skills"] if s["name"] == "rotten-skill")
    urllib3 = next(p for p in rotten["pins"] if p["package"] == "urllib3")
    assert urllib3["findings"][0] == {"kind": "outdated", "message": "major update available: 1.26.5 -> 2.5.0",
                                      "level": "major", "latest": "2.5.0"}
    sarif = json.loads(audit(cli, audit_repo, "--format", "sarif").out)
    results = sarif["runs"][0]["results"]
    major = next(r for r in results if r["ruleId"] == "rot/outdated-major")
    assert major["level"] == "error"
    loc = major["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "skills/rotten-skill/SKILL.md"
    text = (audit_repo / "skills/rotten-skill/SKILL.md").read_text().splitlines()
    assert "urllib3" in text[loc["region"]["startLine"]] or "urllib3" in text[loc["region"]["startLine"] - 1]


def test_offline_uses_cache_and_never_demotes_on_a_miss(cli, audit_repo, registry):
    with freeze_time("2026-11-20T12:00:00Z"):
        online = json.loads(audit(cli, audit_repo, "--json").out)
    before = len(registry.log)
    with freeze_time("2026-11-25T12:00:00Z"):  # cache entries are days old: offline uses them anyway
        offline = json.loads(audit(cli, audit_repo, "--json", "--offline").out)
    assert len(registry.log) == before
    assert [s["status_after"] for s in offline["skills"]] == [s["status_after"] for s in online["skills"]]
    assert offline["summary"]["from_cache"] == 3
    (audit_repo / ".skillctl" / "state.db").unlink()
    with freeze_time("2026-11-20T12:00:00Z"):
        cold = json.loads(audit(cli, audit_repo, "--json", "--offline").out)
    rotten = next(s for s in cold["skills"] if s["name"] == "rotten-skill")
    assert rotten["status_after"] == "active"  # unreachable is never a demotion
    assert {f["kind"] for p in rotten["pins"] for f in p["findings"]} == {"unreachable"}


@freeze_time("2026-11-20T12:00:00Z")
def test_registry_down_is_a_finding_not_a_crash(cli, audit_repo):
    (audit_repo / "skillctl.yaml").write_text("registries:\n  pypi: http://127.0.0.1:9\naudit:\n  retries: 0\n")
    res = audit(cli, audit_repo)
    assert res.code == 0 and "unreachable" in res.out and "-> stale" not in res.out


def test_unreadable_skill_and_bad_input(cli, audit_repo):
    (audit_repo / "skills" / "broken").mkdir()
    (audit_repo / "skills" / "broken" / "SKILL.md").write_bytes(b"---\nname: [unclosed\n---\n")
    with freeze_time("2026-11-20T12:00:00Z"):
        res = audit(cli, audit_repo, "--offline")
    assert res.code == 1 and "broken" in res.out and "SK012" in res.out
    assert audit(cli, audit_repo, "no-such-skill").code == 2
    (audit_repo / "skillctl.yaml").write_text("policy:\n  stale_on: [unreachable]\n")
    bad = audit(cli, audit_repo)
    assert bad.code == 2 and "never demotes" in bad.err
