"""``skillctl schedule``: what is due (missed runs caught up), a full pass, and lock safety
with concurrent writers and a scheduler killed mid-write."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import git
import pytest
from conftest import make_skill, skill_text
from freezegun import freeze_time

from skillctl.lock import lock_path, read_lock, skill_digest, write_lock
from skillctl.lockmodel import Approval, Lock, LockEntry
from skillctl.rot.schedule import due_skills, parse_interval, scheduler_guard

FIXTURES = Path(__file__).resolve().parents[1] / "skills_repo" / "registry-snapshot"
SKILLCTL = [sys.executable, "-m", "skillctl"]
T0 = datetime(2026, 8, 1, 10, 0, tzinfo=timezone.utc)


def entry(folder: Path, *, verified: datetime = T0, ttl: timedelta = timedelta(days=30), **kw) -> LockEntry:
    fields = {"status": "active", "reason": "1/1 checks passed", "since": verified, "verified_at": verified,
              "expires_at": verified + ttl, "digest": skill_digest(folder),
              "path": folder.relative_to(folder.parents[1]).as_posix()}
    return LockEntry(**{**fields, **kw})


def commit_all(root: Path, message: str = "skills") -> None:
    r = git.Repo(root)
    r.git.add("-A")
    r.git.commit("-m", message)


def test_due_skills_cover_every_reason(repo: Path):
    names = ["fresh", "expired", "expiring", "changed", "never", "retired", "quarantined", "approved"]
    folders = {n: make_skill(repo, n) for n in names}
    now = T0 + timedelta(days=29)
    lock = Lock(skills={
        "fresh": entry(folders["fresh"], verified=now - timedelta(days=1)),
        "expired": entry(folders["expired"], verified=T0 - timedelta(days=90)),  # three missed months
        "expiring": entry(folders["expiring"]),
        "changed": entry(folders["changed"], verified=now - timedelta(days=1), digest="sha256:old"),
        "never": LockEntry(status="draft", path="skills/never"),
        "retired": entry(folders["retired"], verified=T0 - timedelta(days=90), status="retired"),
        "quarantined": entry(folders["quarantined"], status="quarantined", digest="sha256:x"),
        "approved": entry(folders["approved"], status="quarantined", digest="sha256:x",
                          approval=Approval(by="ana", at=now, reason="reviewed")),
    })
    write_lock(repo, lock)
    due = {d.name: d.reason for d in due_skills(repo, now, lead=timedelta(days=2))}
    assert set(due) == {"demo-skill", "expired", "expiring", "changed", "never", "approved"}
    assert due["demo-skill"] == due["never"] == "never verified"
    assert due["expired"] == "ttl expired at 2026-06-02T10:00:00Z"
    assert due["expiring"].startswith("ttl expires at 2026-08-31T10:00:00Z (within the 2d lead time)")
    assert due["changed"] == due["approved"] == "content changed since its last verification"
    assert "expiring" not in {d.name for d in due_skills(repo, now, lead=timedelta(hours=23))}


def test_due_exactly_at_expiry(repo: Path):
    lock = Lock(skills={"demo-skill": entry(repo / "skills" / "demo-skill")})
    write_lock(repo, lock)
    expires = T0 + timedelta(days=30)
    assert due_skills(repo, expires - timedelta(seconds=1), lead=timedelta(0)) == []
    assert [d.reason for d in due_skills(repo, expires, lead=timedelta(0))] == ["ttl expired at 2026-08-31T10:00:00Z"]


def test_once_catches_up_missed_runs_and_commits(cli, repo: Path):
    write_lock(repo, Lock(skills={"demo-skill": entry(repo / "skills" / "demo-skill",
                                                      verified=T0 - timedelta(days=200))}))
    commit_all(repo, "lock from long ago")
    with freeze_time("2026-11-26T08:00:00Z"):
        res = cli("schedule", "--once", "--repo", str(repo))
    assert res.code == 0, res.out + res.err
    assert "demo-skill: ttl expired at 2026-02-12T10:00:00Z" in res.out
    assert "verify demo-skill: passed" in res.out
    e = read_lock(repo).skills["demo-skill"]
    assert e.status == "active" and e.expires_at == datetime(2026, 12, 26, 8, 0, tzinfo=timezone.utc)
    head = git.Repo(repo).head.commit
    assert list(head.stats.files) == ["skills.lock"]
    with freeze_time("2026-11-27T08:00:00Z"):  # nothing due the next day: no new commit
        again = cli("schedule", "--once", "--repo", str(repo), "--json")
    assert json.loads(again.out)["due"] == [] and git.Repo(repo).head.commit == head


def rotten_skill(repo: Path, httpserver) -> None:
    httpserver.expect_request("/pypi/urllib3/json").respond_with_data((FIXTURES / "pypi/urllib3.json").read_text())
    (repo / "skillctl.yaml").write_text(f"registries:\n  pypi: {httpserver.url_for('')}\n")
    lifecycle = textwrap.dedent("""\
        metadata:
          skillctl:
            version: 1.0.0
            ttl: 30d
            pins:
              - datasource: pypi
                package: urllib3
                version: 1.26.5
        """)
    folder = make_skill(repo, "rotten", skill_text("rotten", lifecycle=lifecycle))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    write_lock(repo, Lock(skills={"demo-skill": entry(repo / "skills" / "demo-skill", verified=now),
                                  "rotten": entry(folder, verified=now)}))
    commit_all(repo)


def test_once_runs_the_audit_and_applies_it(cli, repo: Path, httpserver):
    rotten_skill(repo, httpserver)
    res = cli("schedule", "--once", "--repo", str(repo))
    assert res.code == 1 and "0 due" in res.out
    assert "audit rotten: active -> stale (pypi urllib3 1.26.5: major update available" in res.out
    assert read_lock(repo).skills["rotten"].status == "stale"


def test_a_second_scheduler_skips_its_run(cli, repo: Path):
    with scheduler_guard(repo) as alone:
        assert alone
        res = cli("schedule", "--once", "--repo", str(repo))
    assert res.code == 0 and "skipped: another scheduler is running" in res.out


@pytest.mark.parametrize("args", [[], ["--once", "--every", "1h"], ["--every", "soon"], ["--once", "--lead", "x"]])
def test_bad_usage(cli, repo: Path, args):
    assert cli("schedule", "--repo", str(repo), *args).code == 2


def test_parse_interval():
    assert parse_interval("90s") == timedelta(seconds=90)
    assert parse_interval("1h") == timedelta(hours=1) and parse_interval("2w") == timedelta(weeks=2)


# --- lock safety ----------------------------------------------------------------------------

NOTE_WRITER = """
import sys, time
from skillctl.lock import lock_transaction
root, skill, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
n, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    with lock_transaction(root) as lock:
        lock.skills[skill].notes.append(f"writer-b {n}")
    n += 1
    time.sleep(0.002)
print(n)
"""


def test_concurrent_writers_lose_no_update(repo: Path, httpserver):
    """The scheduler demotes a skill while another process keeps annotating the same entry."""
    rotten_skill(repo, httpserver)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    writer = subprocess.Popen([sys.executable, "-c", NOTE_WRITER, str(repo), "rotten", "3"],
                              stdout=subprocess.PIPE, text=True, env=env)
    time.sleep(0.3)
    schedulers = [subprocess.run([*SKILLCTL, "schedule", "--once", "--repo", str(repo)], env=env,
                                 capture_output=True, text=True, timeout=60) for _ in range(2)]
    written = int(writer.communicate(timeout=60)[0])
    assert all(s.returncode in (0, 1) for s in schedulers), [s.stderr for s in schedulers]
    final = read_lock(repo).skills["rotten"]
    assert final.status == "stale" and "urllib3" in final.reason
    assert [n for n in final.notes if n.startswith("writer-b")] == [f"writer-b {i}" for i in range(written)]
    assert written > 20


LOCK_WRITER = """
import sys
from skillctl.lock import lock_transaction
root = sys.argv[1]
i = 0
while True:
    with lock_transaction(root) as lock:
        for entry in lock.skills.values():
            entry.reason = f"rewrite {i}"
    i += 1
"""


def test_sigkill_mid_write_leaves_a_valid_lock(repo: Path):
    """Kill writers at random moments, over and over: the lock is always the old or the new file."""
    big = Lock(skills={f"skill-{i:04d}": LockEntry(status="active", reason="seed", path=f"skills/s{i}",
                                                    digest="sha256:" + "ab" * 32, checks={"a": "pass", "b": "pass"})
                       for i in range(1500)})
    write_lock(repo, big)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    rng = random.Random(5)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", LOCK_WRITER, str(repo)], env=env, start_new_session=True)
        time.sleep(0.4 + rng.random() * 0.3)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        lock = read_lock(repo)
        assert len(lock.skills) == 1500
        assert len({e.reason for e in lock.skills.values()}) == 1  # never half old, half new
    assert lock_path(repo).read_text().endswith("\n")


def test_sigkill_of_the_scheduler_daemon(repo: Path):
    """The real daemon, re-verifying everything on each pass, killed at random times."""
    filler = {f"old-{i:04d}": LockEntry(status="retired", reason="kept for history") for i in range(800)}
    write_lock(repo, Lock(skills=filler))
    commit_all(repo, "big lock")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    rng = random.Random(7)
    for _ in range(3):
        before = lock_path(repo).stat().st_mtime_ns
        proc = subprocess.Popen([*SKILLCTL, "schedule", "--every", "1s", "--lead", "520w", "--repo", str(repo)],
                                env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while lock_path(repo).stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.02)  # wait for a first write, then kill somewhere in the following passes
        time.sleep(rng.random() * 1.5)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        lock = read_lock(repo)
        assert len(lock.skills) == 801
        assert lock.skills["demo-skill"].status == "active"
