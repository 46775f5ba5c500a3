"""skills.lock: exact format, byte-stable rewrites, refusal to clobber what we can't read."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import make_skill

from skillctl.errors import LockError
from skillctl.lock import dump_lock, lock_path, lock_transaction, read_lock, skill_digest, write_lock
from skillctl.model import Lock, LockEntry

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)

DESIGN_EXAMPLE = """\
# skills.lock: lifecycle state of every skill, written by skillctl. Review, don't hand-edit.
# The last line must be the end marker below; a lock without it was cut short (corrupt).
version: 1
skills:
  pdf-table-extract:
    version: 1.3.0
    digest: sha256:abc
    status: active
    reason: 2/2 checks passed
    since: 2026-11-20T10:00:00Z
    verified_at: 2026-11-20T10:00:00Z
    verified_commit: 1a2b3c4
    expires_at: 2026-12-20T10:00:00Z
    checks: {extracts-sample: pass, import-works: pass}
    env: {platform: linux-x86_64, python: 3.11.7, sandbox: bwrap}
    findings: []
# end of skills.lock
"""


def sample_lock() -> Lock:
    return Lock(skills={"pdf-table-extract": LockEntry(
        version="1.3.0", digest="sha256:abc", status="active", reason="2/2 checks passed",
        since=T0, verified_at=T0, verified_commit="1a2b3c4", expires_at=T0 + timedelta(days=30),
        checks={"import-works": "pass", "extracts-sample": "pass"},
        env={"python": "3.11.7", "platform": "linux-x86_64", "sandbox": "bwrap"})})


def test_dump_matches_design_format_and_round_trips(tmp_path: Path) -> None:
    assert dump_lock(sample_lock()) == DESIGN_EXAMPLE
    lock_path(tmp_path).write_text(DESIGN_EXAMPLE)
    lock = read_lock(tmp_path)
    assert lock == sample_lock()
    before = lock_path(tmp_path).stat().st_mtime_ns
    assert write_lock(tmp_path, lock) is False  # identical text: not even rewritten
    assert lock_path(tmp_path).read_text() == DESIGN_EXAMPLE
    assert lock_path(tmp_path).stat().st_mtime_ns == before


@pytest.mark.parametrize("value", ["1.0", "yes", "null", "123", "a: b", "x #y", "- item", "", " pad", "ünï"])
def test_awkward_strings_survive_a_round_trip(tmp_path: Path, value: str) -> None:
    lock = Lock(skills={"s": LockEntry(reason=value, version=value, checks={value or "k": value})})
    write_lock(tmp_path, lock)
    assert read_lock(tmp_path) == lock


def test_lock_in_another_timezone_is_read_as_utc(tmp_path: Path) -> None:
    lock_path(tmp_path).write_text(DESIGN_EXAMPLE.replace("expires_at: 2026-12-20T10:00:00Z",
                                                          "expires_at: 2026-12-20T12:00:00+02:00"))
    entry = read_lock(tmp_path).skills["pdf-table-extract"]
    assert entry.expires_at == T0 + timedelta(days=30)
    write_lock(tmp_path, read_lock(tmp_path))
    assert "expires_at: 2026-12-20T10:00:00Z" in lock_path(tmp_path).read_text()


@pytest.mark.parametrize(("text", "needle"), [
    ("version: 2\nskills: {}\n", "unknown lock version 2"),
    ("version: 1\nskills: [a, b]\n", "'skills' must be a mapping"),
    ("version: 1\nskills:\n  x:\n    status: exploded\n", "x.status"),
    ("version: 1\nskills: {x: {since: not-a-date}}\n", "x.since"),
    ("{{{{", "YAML error"),
    ("- just\n- a list\n", "expected a mapping"),
])
def test_corrupt_lock_is_an_error_and_never_overwritten(tmp_path: Path, text: str, needle: str, cli) -> None:
    lock_path(tmp_path).write_text(text)
    with pytest.raises(LockError) as info:
        read_lock(tmp_path)
    assert needle in str(info.value)
    with pytest.raises(LockError), lock_transaction(tmp_path) as lock:
        lock.skills["new"] = LockEntry()
    assert lock_path(tmp_path).read_text() == text
    res = cli("list", "--repo", str(tmp_path))
    assert res.code == 2
    assert "skills.lock" in res.err and "SC02" in res.err


def test_non_utf8_lock(tmp_path: Path) -> None:
    lock_path(tmp_path).write_bytes(b"version: 1\nskills: {x: {reason: \xff}}\n")
    with pytest.raises(LockError, match="not valid UTF-8"):
        read_lock(tmp_path)


def test_transaction_aborted_by_exception_keeps_old_file(tmp_path: Path) -> None:
    write_lock(tmp_path, sample_lock())
    before = lock_path(tmp_path).read_bytes()
    with pytest.raises(RuntimeError), lock_transaction(tmp_path) as lock:
        lock.skills.clear()
        raise RuntimeError("boom")
    assert lock_path(tmp_path).read_bytes() == before


def _bump(root: str, name: str, n: int) -> None:
    for _ in range(n):
        with lock_transaction(Path(root)) as lock:
            entry = lock.skills.setdefault(name, LockEntry(reason="0"))
            entry.reason = str(int(entry.reason) + 1)


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    write_lock(tmp_path, Lock())
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_bump, args=(str(tmp_path), name, 25)) for name in ("a", "b", "a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lock = read_lock(tmp_path)
    assert lock.skills["a"].reason == "50" and lock.skills["b"].reason == "50"


def _write_forever(root: str) -> None:
    i = 0
    big = {f"skill-{n}": LockEntry(reason="x" * 2000) for n in range(200)}
    while True:
        i += 1
        write_lock(Path(root), Lock(skills={**big, "counter": LockEntry(reason=str(i))}))


def test_sigkill_mid_write_leaves_a_valid_lock(tmp_path: Path) -> None:
    write_lock(tmp_path, Lock(skills={"counter": LockEntry(reason="0")}))
    ctx = multiprocessing.get_context("fork")
    for delay in (0.05, 0.13, 0.21):
        p = ctx.Process(target=_write_forever, args=(str(tmp_path),))
        p.start()
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        read_lock(tmp_path)  # parses: old or new, never a mix
    write_lock(tmp_path, Lock())  # the next writer sweeps what killed writers left behind
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_digest_covers_paths_and_bytes_and_ignores_git(tmp_path: Path) -> None:
    folder = make_skill(tmp_path)
    d1 = skill_digest(folder)
    assert d1.startswith("sha256:") and len(d1) == 71
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref")
    assert skill_digest(folder) == d1
    (folder / "scripts").mkdir()
    (folder / "scripts" / "a.py").write_text("print(1)")
    d2 = skill_digest(folder)
    assert d2 != d1
    (folder / "scripts" / "a.py").rename(folder / "scripts" / "b.py")
    assert skill_digest(folder) not in (d1, d2)  # a rename changes the digest
    (folder / "scripts" / "b.py").write_text("print(2)")
    d3 = skill_digest(folder)
    (folder / "scripts" / "b.py").write_text("print(2)")
    assert skill_digest(folder) == d3


def test_new_lock_file_is_world_readable(tmp_path: Path) -> None:
    write_lock(tmp_path, sample_lock())
    assert lock_path(tmp_path).stat().st_mode & 0o044 == 0o044
