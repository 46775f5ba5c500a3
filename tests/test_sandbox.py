"""The sandbox, proven with real processes: what a check can and cannot reach.

bwrap tests skip (with the reason shown by ``-ra``) only on machines where bwrap cannot run;
on such machines the fallback tests still run and assert what the fallback honestly claims.
"""

from __future__ import annotations

import http.server
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from skillctl import sandbox
from skillctl.errors import InputError, SandboxError
from skillctl.sandbox import Limits
from skillctl.sandbox import bwrap as sandbox_bwrap
from skillctl.sandbox import fallback as sandbox_fallback

BWRAP_OK = sandbox.available_isolation()[0] == "bwrap"
needs_bwrap = pytest.mark.skipif(not BWRAP_OK, reason=f"bwrap unusable here: {sandbox.available_isolation()[1]}")
BACKENDS = [pytest.param("bwrap", marks=needs_bwrap), "fallback"]
PY = sys.executable
# As root the fallback always drops to nobody, who cannot reach an interpreter under /root
# (this machine's pyenv): those tests use a system python nobody can run, when there is one.
SYSTEM_PY = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.access(p, os.X_OK)), PY)


def py(backend: str) -> str:
    return SYSTEM_PY if backend == "fallback" and os.geteuid() == 0 else PY


def run(argv, folder, backend, **kw):
    kw.setdefault("limits", Limits(timeout=10))
    return sandbox.run(argv, folder, backend=backend, **kw)


def sh(script: str, folder: Path, backend: str, **kw):
    return run(["sh", "-c", script], folder, backend, **kw)


@pytest.fixture
def skill(tmp_path: Path) -> Path:
    folder = tmp_path / "repo" / "skills" / "demo"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: demo\n---\n")
    (folder / "data.txt").write_text("hello\n")
    return folder


@pytest.fixture
def outside() -> Path:
    """A directory outside /tmp (which the sandbox replaces anyway), so hiding is really tested."""
    path = Path(tempfile.mkdtemp(prefix="skillctl-test-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_check_works_on_a_copy_and_leaves_the_original_untouched(skill, backend):
    before = sorted(p.name for p in skill.iterdir())
    res = sh("cat data.txt; echo new > made.txt; rm data.txt; pwd", skill, backend)
    assert res.exit_code == 0, res.stderr.head
    assert res.stdout.head.splitlines()[0] == b"hello"
    assert res.stdout.head.splitlines()[1].decode() != str(skill)
    assert sorted(p.name for p in skill.iterdir()) == before
    assert res.isolation == backend


@needs_bwrap
def test_bwrap_cannot_write_outside_its_scratch_dir(skill, outside, tmp_path):
    targets = [skill / "SKILL.md", skill / "new.txt", outside / "escape.txt", Path("/etc/skillctl-escape")]
    script = "; ".join(f"echo pwned > {t} 2>/dev/null && echo WROTE {t}" for t in targets)
    res = sh(script + "; echo ok > /tmp/private.txt && echo TMP-OK; echo ok > scratch.txt && echo CWD-OK",
             skill, "bwrap")
    out = res.stdout.head.decode()
    assert "WROTE" not in out
    assert "TMP-OK" in out and "CWD-OK" in out
    assert (skill / "SKILL.md").read_text() == "---\nname: demo\n---\n"
    assert not (skill / "new.txt").exists() and not (outside / "escape.txt").exists()
    assert not Path("/etc/skillctl-escape").exists() and not Path("/tmp/private.txt").exists()


@needs_bwrap
def test_bwrap_hides_home_secrets_but_not_the_rest_of_the_host(skill, outside, monkeypatch):
    home = outside / "home"
    (home / ".ssh").mkdir(parents=True)
    secret = home / ".ssh" / "id_rsa"
    secret.write_text("-----BEGIN PRIVATE KEY----- planted\n")
    secret.chmod(0o644)  # readable by anyone: only the sandbox's hiding can protect it
    control = outside / "public.txt"
    control.write_text("visible\n")
    control.chmod(0o644)
    monkeypatch.setenv("HOME", str(home))
    res = sh(f"cat {secret}; echo HOME=$HOME; cat {control}", skill, "bwrap")
    out = res.stdout.head.decode()
    assert "planted" not in out
    assert "visible" in out  # the host is readable; it is $HOME specifically that is masked
    assert f"HOME={home}" not in out


@needs_bwrap
def test_bwrap_hides_the_repos_git_directory(skill):
    git_dir = skill.parents[1] / ".git"
    git_dir.mkdir()
    (git_dir / "config").write_text("[remote] token=secret\n")
    res = sh(f"cat {git_dir}/config", skill, "bwrap", hide=(git_dir,))
    assert b"secret" not in res.stdout.head
    assert res.exit_code != 0


class _Server:
    def __enter__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"reached")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _fetch(url: str, backend: str = "bwrap") -> list[str]:
    code = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=3).read().decode())"
    return [py(backend), "-c", code]


@needs_bwrap
def test_bwrap_network_off_cannot_reach_local_server_and_on_can(skill):
    with _Server() as url:
        off = run(_fetch(url), skill, "bwrap", network=False)
        on = run(_fetch(url), skill, "bwrap", network=True)
    assert b"reached" not in off.stdout.head and off.exit_code != 0
    assert "network off" in off.detail
    assert on.stdout.head.strip() == b"reached", on.stderr.tail


def test_fallback_network_isolation_is_real_or_declared_missing(skill):
    with _Server() as url:
        off = run(_fetch(url, "fallback"), skill, "fallback", network=False)
        on = run(_fetch(url, "fallback"), skill, "fallback", network=True)
    assert on.stdout.head.strip() == b"reached", on.stderr.tail
    if sandbox_fallback.can_isolate_network():
        assert b"reached" not in off.stdout.head and "network namespace" in off.detail
    else:
        assert "NETWORK NOT ISOLATED" in off.detail


@pytest.mark.parametrize("backend", BACKENDS)
def test_env_is_scrubbed_except_what_the_check_names(skill, backend, monkeypatch):
    monkeypatch.setenv("SKILLCTL_TEST_SECRET", "s3cret")
    monkeypatch.setenv("SKILLCTL_TEST_PASSED", "fine")
    res = sh("env", skill, backend, env={"SKILLCTL_TEST_PASSED": "fine"})
    out = res.stdout.head.decode()
    assert "s3cret" not in out and "SKILLCTL_TEST_PASSED=fine" in out
    assert "HOME=" in out and "PATH=" in out


@pytest.mark.parametrize("backend", BACKENDS)
def test_infinite_loop_is_killed_at_the_deadline(skill, backend):
    start = time.monotonic()
    res = sh("while :; do :; done", skill, backend, limits=Limits(timeout=1))
    assert res.timed_out and res.exit_code is None
    assert time.monotonic() - start < 4


def _survivors(marker: str) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if marker.encode() in Path(entry.path, "cmdline").read_bytes():
                    count += 1
            except OSError:
                continue
    return count


@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_bomb_is_contained_reported_and_cleaned_up(skill, backend):
    marker = f"forkbomb-{uuid.uuid4().hex}"
    code = (f"import os, time  # {marker}\n"
            "while True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)")
    res = run([py(backend), "-c", code], skill, backend, limits=Limits(timeout=1, processes=64))
    assert res.timed_out
    deadline = time.monotonic() + 10
    while _survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _survivors(marker) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_gigabyte_allocation_hits_the_memory_limit(skill, backend):
    res = run([py(backend), "-c", "b = bytearray(1024 ** 3); print('allocated')"], skill, backend)
    assert res.exit_code != 0
    assert b"allocated" not in res.stdout.head
    assert b"MemoryError" in res.stderr.tail


@pytest.mark.parametrize("backend", BACKENDS)
def test_hundred_megabytes_of_output_is_capped_not_buffered(skill, backend):
    res = sh("head -c 100000000 /dev/zero | tr '\\0' x; echo done >&2", skill, backend)
    assert res.exit_code == 0
    assert len(res.stdout.head) == 64 * 1024 and res.stdout.truncated
    assert res.stdout.total == 100_000_000
    assert res.stderr.head == b"done\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_background_child_holding_the_pipe_does_not_stall_the_run(skill, backend):
    start = time.monotonic()
    res = sh("sleep 30 & echo started", skill, backend)
    assert res.exit_code == 0 and res.stdout.head == b"started\n"
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_check_deleting_its_own_folder_harms_nothing(skill, backend):
    res = sh('rm -rf "$PWD"; echo gone', skill, backend)
    assert res.exit_code == 0
    assert (skill / "data.txt").read_text() == "hello\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_special_files_in_a_skill_are_refused_not_copied_or_hung_on(skill, backend):
    os.mkfifo(skill / "pipe")
    with pytest.raises(InputError) as info:
        sh("ls", skill, backend)
    assert info.value.code == "SK017" and "FIFO" in info.value.message
    assert stat.S_ISFIFO(os.lstat(skill / "pipe").st_mode)


def test_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="disappeared"):
        sh("true", tmp_path / "gone", "fallback")


def test_require_sandbox_without_bwrap_is_an_error(skill, monkeypatch):
    monkeypatch.setattr(sandbox_bwrap, "probe", lambda: (None, "", "user namespaces disabled"))
    with pytest.raises(SandboxError, match="user namespaces disabled"):
        sh("true", skill, "auto", require_sandbox=True)
    res = sh("true", skill, "auto")  # without the requirement it falls back and says why
    assert res.isolation == "fallback" and "user namespaces disabled" in res.detail


def test_probe_is_cached_per_process():
    assert sandbox_bwrap.probe() is sandbox_bwrap.probe()


@pytest.mark.parametrize("backend", BACKENDS)
def test_process_count_is_bounded_even_for_root(skill, backend):
    """Forks beyond the process limit fail inside the check, whoever runs skillctl.

    As a normal user RLIMIT_NPROC bounds it; as root (exempt from that rlimit) a pids cgroup
    does, and the result says so.
    """
    from skillctl.sandbox.cgroup import _hierarchy

    if os.geteuid() == 0 and _hierarchy() is None:
        pytest.skip("running as root without a writable pids cgroup: nothing can bound forks here")
    code = ("import os, time\n"
            "made = 0\n"
            "for _ in range(200):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(30)\n"
            "            os._exit(0)\n"
            "        made += 1\n"
            "    except OSError:\n"
            "        break\n"
            "print(made)\n")
    res = run([py(backend), "-c", code], skill, backend, limits=Limits(timeout=20, processes=32))
    made = int(res.stdout.head.decode().strip() or "-1")
    assert made >= 0, (res.stderr.tail, res.error, res.detail, res.exit_code)
    assert 0 <= made <= 32 + 8, res.stderr.tail  # +8: the cgroup's headroom for bwrap's own processes
    if os.geteuid() == 0:  # root never hands its uid to a check, so RLIMIT_NPROC binds
        assert "as uid 0" not in res.detail and "as uid " in res.detail


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch", [1, 2], ids=["alone", "supervised"])
def test_the_checks_copy_keeps_modes_mtimes_and_symlinks(skill, backend, batch):
    """One check is copied by ``cp -RPp``, a batch by the supervisor's own copier: the same result."""
    script = skill / "run.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o750)
    os.utime(script, (1_000_000_000, 1_000_000_000))
    (skill / "link").symlink_to("run.sh")
    (skill / "sub").mkdir()
    (skill / "sub" / "ro.txt").write_text("ro\n")
    (skill / "sub" / "ro.txt").chmod(0o444)
    probe = "stat -c '%a %Y' run.sh; readlink link; ./link; stat -c %a sub/ro.txt; echo new > made.txt && echo w"
    commands = [sandbox.Command(["sh", "-c", probe], 10)] * batch
    for res in sandbox.run_batch(commands, skill, backend=backend):
        assert res.exit_code == 0, (res.stderr.tail, res.error)
        assert res.stdout.head.decode().split("\n") == ["750 1000000000", "run.sh", "ran", "444", "w", ""]


def test_malformed_supervisor_reports_are_ignored_never_a_pass():
    from skillctl.sandbox.base import Plan
    from skillctl.sandbox.batch import _accept

    plan = Plan(argv=[], isolation="bwrap", detail="d")
    results: list = [None, None]
    good = b"R 1 0 - 0 0.5 3 b2sK b2sK 0 - - -"
    bad_lines = (b"R 0 0 - 0 0.5 3 b2sK b2sK 0 - -", b"R 0 0 - 0 0.5 3 b2s* b2sK 0 - - -",
                 b"R 7 0 - 0 0.5 3 b2sK b2sK 0 - - -", b"X 0 0 - 0 0.5 3 b2sK b2sK 0 - - -",
                 b"R zero 0 - 0 0.5 3 b2sK b2sK 0 - - -", b"", b"\xff" * 40)
    for bad in bad_lines:
        _accept(bad, results, 64, plan, "d", None)
    assert results == [None, None]
    _accept(good, results, 64, plan, "d", None)
    _accept(b"R 1 1 - 0 0.5 0 - - 0 - - -", results, 64, plan, "d", None)  # a second report for 1: ignored
    assert results[0] is None and results[1].exit_code == 0 and results[1].stdout.head == b"ok\n"
