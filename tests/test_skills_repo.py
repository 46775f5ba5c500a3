"""The embedded skills_repo is real: its lock states are reproduced by actually verifying it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from freezegun import freeze_time

from skillctl.lock import read_lock, skill_digest
from skillctl.validate import validate_paths
from skillctl.verify import run_verify

ROOT = Path(__file__).resolve().parents[1] / "skills_repo"


@pytest.fixture(scope="module")
def lock():
    return read_lock(ROOT, missing_ok=False)


def test_lock_shows_the_whole_lifecycle(lock) -> None:
    statuses = {name: e.status for name, e in lock.skills.items()}
    assert statuses.pop("requests-retry-session") == "stale"
    assert statuses.pop("iso-week-report") == "failing"
    assert statuses.pop("csv-c1ean") == "quarantined"
    assert len(statuses) >= 10 and set(statuses.values()) == {"active"}


def test_lock_digests_match_the_committed_folders(lock) -> None:
    for name, entry in lock.skills.items():
        assert skill_digest(ROOT / entry.path) == entry.digest, name


def test_every_skill_passes_strict_validation() -> None:
    diags = [d for d in validate_paths([ROOT / "skills"], strict=True) if d.severity.value != "info"]
    assert diags == []


@freeze_time("2026-11-26T12:00:00Z", tick=True)
def test_verify_reproduces_the_lock_states(tmp_path: Path, lock) -> None:
    repo = tmp_path / "skills_repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".skillctl"))
    report = run_verify(repo, force=True, jobs=2)
    by_name = {v.name: v for v in report.skills}
    assert set(by_name) == set(lock.skills)
    for name, entry in lock.skills.items():
        verdict = by_name[name]
        if entry.status == "active":
            assert verdict.new_status == "active", (name, verdict.reason)
            assert all(c.status == "pass" for c in verdict.checks), name
        elif entry.status == "failing":
            assert verdict.new_status == "failing", verdict.reason
            failed = {c.id for c in verdict.checks if c.status != "pass"}
            assert failed == {k for k, v in entry.checks.items() if v == "fail"}
        elif entry.status == "quarantined":
            assert verdict.new_status == "quarantined"
            assert verdict.checks == []  # a blocked skill is never executed
            assert set(verdict.findings) == set(entry.findings)
        elif entry.status == "stale":
            # a fresh passing verification is exactly what lifts a stale skill (docs/DESIGN.md, "The lifecycle")
            assert verdict.new_status == "active", verdict.reason
    assert read_lock(repo) == lock  # dry run: nothing written
