"""Attacks on the fallback (no bwrap): filling scratch, reading another check's /tmp, outliving skillctl.

Where a mount namespace can be made (root, or unprivileged user namespaces), the fallback gives
each check a read-only host and private, capped tmpfs for every place it may write; these tests
mount the attacks against that, as root and as ``nobody``. Where it cannot, they check that the
result says so instead of claiming a cap it does not have.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import WORKTREE, needs_nobody, run_as_nobody

from skillctl import sandbox
from skillctl.sandbox import Limits, mounts

PRIVATE = mounts.available() == ""
needs_private = pytest.mark.skipif(not PRIVATE, reason=f"no mount namespace here: {mounts.available()}")


@pytest.fixture
def skill() -> Path:
    """Outside /tmp, and readable by ``nobody``: the non-root variant runs as that user."""
    folder = Path(tempfile.mkdtemp(prefix="skillctl-fallback-", dir="/var/tmp"))
    folder.chmod(0o755)
    (folder / "SKILL.md").write_text("---\nname: demo\n---\n")
    (folder / "SKILL.md").chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def fallback(script: str, folder: Path, **kw) -> sandbox.SandboxResult:
    kw.setdefault("limits", Limits(timeout=30, tmpfs_mb=16))
    return sandbox.run(["bash", "-c", script], folder, backend="fallback", **kw)


@needs_private
@pytest.mark.parametrize("where", [".", "/tmp", "/var/tmp", "/dev/shm", "$HOME", "$TMPDIR"])
def test_a_check_cannot_fill_memory_or_disk_through_the_fallback(skill, where):
    fill = f'for i in 1 2 3 4; do head -c 6000000 /dev/zero > "{where}/f$i" || exit 7; done; echo filled'
    res = fallback(fill, skill)
    assert res.exit_code == 7 and b"filled" not in res.stdout.head, (res.stderr.tail, res.detail)
    assert b"No space left" in res.stderr.tail, res.stderr.tail
    assert "writable space: tmpfs 16 MiB each" in res.detail and "private /tmp" in res.detail


PRIVATE_IN_FALLBACK = ("/tmp", "/var/tmp", "/dev/shm")


def _host_folder() -> Path:
    """A writable host folder outside the places the fallback replaces with private tmpfs.

    The checkout itself when it qualifies; a clean clone may well live under /tmp, though."""
    for candidate in (WORKTREE, Path.home(), Path("/var/lib"), Path("/opt"), Path("/")):
        real = candidate.resolve()
        private = any(real == Path(d) or Path(d) in real.parents for d in PRIVATE_IN_FALLBACK)
        if not private and os.access(real, os.W_OK):
            return real
    pytest.skip("no writable folder outside /tmp, /var/tmp and /dev/shm to test the read-only host view with")


@needs_private
def test_the_host_is_read_only_to_a_fallback_check(skill):
    # Not under /tmp, /var/tmp or /dev/shm (the check sees private tmpfs there), and writable by
    # anyone on the host: only the read-only view can protect it.
    target = Path(tempfile.mkdtemp(prefix=".skillctl-fallback-target-", dir=_host_folder()))
    target.chmod(0o777)
    try:
        res = fallback(f"echo pwned > {target}/x; echo pwned > {skill}/SKILL.md; echo done", skill)
        assert res.stdout.head == b"done\n"
        assert not (target / "x").exists() and (skill / "SKILL.md").read_text() == "---\nname: demo\n---\n"
        assert b"Read-only file system" in res.stderr.tail
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_without_a_mount_namespace_the_fallback_says_what_it_lacks(skill, monkeypatch):
    monkeypatch.setattr(mounts, "available", lambda: "no private mounts: unshare: Operation not permitted")
    res = fallback("echo hi > $TMPDIR/x && cat $TMPDIR/x", skill)
    assert res.stdout.head == b"hi\n"
    assert "/tmp shared" in res.detail and "scratch space not capped" in res.detail


def _leak_names() -> dict[str, str]:
    tag = uuid.uuid4().hex
    return {d: f"{d}/skillctl-leak-{tag}" for d in ("/tmp", "/var/tmp", "/dev/shm")}


@needs_private
def test_a_check_cannot_read_another_checks_tmp_files_even_while_both_run(skill):
    leaks = _leak_names()
    write = "; ".join(f"echo SECRET > {p}" for p in leaks.values()) + "; echo written; sleep 4"
    read = "; ".join(f"cat {p} 2>/dev/null" for p in leaks.values()) + "; ls /tmp /var/tmp /dev/shm; echo read"
    writer: list[sandbox.SandboxResult] = []
    thread = threading.Thread(target=lambda: writer.append(fallback(write, skill)))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        time.sleep(1.0)  # the writer is up and holding its files
        reader = fallback(read, skill)
        assert time.monotonic() < deadline
    finally:
        thread.join(30)
    assert writer and writer[0].stdout.head == b"written\n", writer and writer[0].stderr.tail
    assert b"SECRET" not in reader.stdout.head and b"skillctl-leak" not in reader.stdout.head
    assert reader.stdout.head.endswith(b"read\n")
    assert not any(os.path.exists(p) for p in leaks.values())  # and nothing was left on the host


@needs_private
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")
@needs_nobody
def test_a_non_root_skillctl_gets_the_same_private_capped_space(skill):
    leaks = _leak_names()
    scripts = ["; ".join(f"echo SECRET > {p}" for p in leaks.values()) + "; echo written",
               "; ".join(f"cat {p} 2>/dev/null" for p in leaks.values()) + "; echo read",
               'head -c 30000000 /dev/zero > "$HOME/big" || exit 7', "id -u"]
    program = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from skillctl import sandbox
        from skillctl.sandbox import Command, Limits, mounts
        rs = sandbox.run_batch([Command(["bash", "-c", s], 20) for s in {scripts!r}], Path({str(skill)!r}),
                               backend="fallback", limits=Limits(tmpfs_mb=16))
        print(json.dumps({{"mounts": mounts.available(), "detail": rs[0].detail,
                          "runs": [[r.exit_code, r.stdout.head.decode()] for r in rs]}}))
    """)
    report = _as_nobody(program, skill)
    (w_code, w_out), (_r_code, r_out), (fill_code, _), (_, uid) = report["runs"]
    assert w_code == 0 and w_out == "written\n"
    assert "SECRET" not in r_out and r_out.endswith("read\n")
    assert fill_code == 7 and uid.strip() == "65534"
    assert "private /tmp" in report["detail"]
    assert not any(os.path.exists(p) for p in leaks.values())


@needs_private
def test_a_sigkilled_skillctl_takes_its_fallback_check_and_scratch_along(skill, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    scratch.chmod(0o755)
    marker = f"{300 + uuid.uuid4().int % 500}"
    program = textwrap.dedent(f"""
        from pathlib import Path
        from skillctl import sandbox
        from skillctl.sandbox import Limits
        held = "head -c 1000000 /dev/zero > /tmp/held; sl" + "eep {marker}"  # pgrep must not find us
        sandbox.run(["bash", "-c", held], Path({str(skill)!r}), backend="fallback", limits=Limits(timeout=120))
    """)
    env = {**os.environ, "SKILLCTL_SCRATCH": str(scratch), "PYTHONPATH": str(WORKTREE)}
    proc = subprocess.Popen([sys.executable, "-c", program], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).stdout:
            assert time.monotonic() < deadline and proc.poll() is None, "the check never started"
            time.sleep(0.05)
        left = list(scratch.glob(f"{sandbox.SCRATCH_PREFIX}*"))
        assert left
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).stdout:
            assert time.monotonic() < deadline, "the check outlived skillctl"
            time.sleep(0.05)
        sweep = ("from skillctl import sandbox; sandbox.sweep_stale_scratch(); "
                 "from skillctl.sandbox import cgroup; cgroup.sweep_stale_cgroups()")
        subprocess.run([sys.executable, "-c", sweep], env=env, check=True, timeout=30)
        assert not any(d.exists() for d in left)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@needs_private
def test_a_check_cannot_reach_another_check_through_proc(skill):
    """Both checks run as the same uid (nobody, or the user's own): with the host's /proc in
    view, /proc/<pid>/root of the other check leads into its private /tmp, /proc/<pid>/fd to
    its pipes. Each check gets a pid namespace of its own, so the other is not there at all."""
    tag = uuid.uuid4().hex
    write = f"echo SECRET > /tmp/leak-{tag}; echo written; sleep 4"
    read = (f"for p in /proc/[0-9]*; do cat $p/root/tmp/leak-{tag} 2>/dev/null; done; "
            f"ls /proc | grep -c '^[0-9]'; echo read")
    writer: list[sandbox.SandboxResult] = []
    thread = threading.Thread(target=lambda: writer.append(fallback(write, skill)))
    thread.start()
    try:
        time.sleep(1.0)
        reader = fallback(read, skill)
    finally:
        thread.join(30)
    assert writer and writer[0].stdout.head == b"written\n", writer and writer[0].stderr.tail
    out = reader.stdout.head.decode()
    assert "SECRET" not in out and out.endswith("read\n"), out
    assert int(out.splitlines()[-2]) <= 6, out  # its own init, itself and its pipeline: nothing of the host
    assert "own pid namespace" in reader.detail


@needs_private
@pytest.mark.parametrize("script, code, sig", [("exit 3", 3, None), ("kill -9 $$", None, 9),
                                               ("kill -TERM $$", None, 15), ("true", 0, None)])
def test_a_fallback_check_ends_as_it_ended_in_its_namespace(skill, script, code, sig):
    res = fallback(script, skill)
    assert (res.exit_code, res.signal, res.timed_out) == (code, sig, False), (res.stderr.tail, res.error)


def _as_nobody(program: str, home: Path) -> dict:
    """``run_as_nobody``, skipping where nobody gets no mount namespace (the report's ``mounts``)."""
    report = run_as_nobody(program, home)
    if report["mounts"]:
        pytest.skip(f"no unprivileged mount namespace for nobody: {report['mounts']}")
    return report


def as_a_normal_user(test):  # type: ignore[no-untyped-def]
    """What a test running skillctl as ``nobody`` needs (root to get there, setpriv, a system python)."""
    for mark in (needs_private, pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody"),
                 needs_nobody):
        test = mark(test)
    return test


@as_a_normal_user
def test_what_a_fallback_check_leaves_running_dies_with_it_under_a_normal_user(skill):
    """A normal user has no pids cgroup to find a ``setsid`` escapee by; the pid namespace does."""
    marker = f"{300 + uuid.uuid4().int % 500}.{os.getpid() % 97}"
    program = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from skillctl import sandbox
        from skillctl.sandbox import Limits, mounts
        r = sandbox.run(["bash", "-c", "(setsid sleep {marker} &); echo started"], Path({str(skill)!r}),
                        backend="fallback", limits=Limits(timeout=20))
        print(json.dumps({{"mounts": mounts.available(), "out": r.stdout.head.decode()}}))
    """)
    try:
        assert _as_nobody(program, skill)["out"] == "started\n"
        deadline = time.monotonic() + 5
        while subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "a check's background process outlived it"
            time.sleep(0.05)
    finally:
        subprocess.run(["pkill", "-KILL", "-f", f"sleep {marker}"], capture_output=True)


@as_a_normal_user
def test_a_non_root_fallback_check_cannot_reach_skillctl_through_proc(skill):
    """Run by a normal user the check has skillctl's uid: /proc/<skillctl>/fd would hand it
    every descriptor skillctl holds (other checks' pipes, the state database), writable."""
    probe = ("echo ppid=$PPID; ls /proc | grep -c '^[0-9]'; for p in /proc/[0-9]*; do "
             "[ $p = /proc/$$ ] || { ls $p/fd >/dev/null 2>&1 && echo fd-of-$p; }; done; echo done")
    program = textwrap.dedent(f"""
        import json, os
        from pathlib import Path
        from skillctl import sandbox
        from skillctl.sandbox import Limits, mounts
        r = sandbox.run(["bash", "-c", {probe!r}], Path({str(skill)!r}), backend="fallback", limits=Limits(timeout=20))
        print(json.dumps({{"mounts": mounts.available(), "me": os.getpid(), "out": r.stdout.head.decode(),
                          "err": r.stderr.tail.decode()}}))
    """)
    report = _as_nobody(program, skill)
    out = report["out"]
    assert out.endswith("done\n"), report
    assert f"ppid={report['me']}" not in out and "fd-of-" not in out, out


@pytest.mark.parametrize("mounts_reason, label", [
    ("", "fallback with private mounts as uid"),
    ("no private mounts: EPERM", "fallback without private mounts as uid"),
])
def test_the_lock_label_says_whether_the_fallback_had_private_mounts(monkeypatch, mounts_reason, label):
    """A verdict earned on a read-only host with capped scratch is not the same evidence as one
    earned with the host visible: the lock's ``env.sandbox`` (and so the verdict cache) tells them apart."""
    from skillctl import sandbox
    from skillctl.sandbox import bwrap as sandbox_bwrap
    from skillctl.sandbox import mounts

    monkeypatch.setattr(sandbox_bwrap, "probe", lambda: (None, "", "no bwrap here"))
    monkeypatch.setattr(mounts, "available", lambda: mounts_reason)
    assert sandbox.isolation_label().startswith(label)
