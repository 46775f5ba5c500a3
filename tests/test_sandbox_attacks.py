"""Attacks on the sandbox (issue #11), each written as the hostile check that mounts it.

A check is skill content, and skill content is hostile. It must not read what only root may
read on the host, however it spells the path (a literal, a string built at run time, a symlink
shipped inside the skill), whether skillctl runs as root (CI, this machine) or as a normal
user; it must not fill the machine's RAM through its scratch space; it must not forge another
check's verdict; and a skillctl killed mid-run must not leave scratch copies behind for good.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SYSTEM_PY, make_skill, needs_nobody, run_as_nobody, skill_text

from skillctl import sandbox
from skillctl.errors import InputError
from skillctl.lock import read_lock
from skillctl.sandbox import Command, Limits
from skillctl.verify import run_verify

BWRAP_OK = sandbox.available_isolation()[0] == "bwrap"
needs_bwrap = pytest.mark.skipif(not BWRAP_OK, reason=f"bwrap unusable here: {sandbox.available_isolation()[1]}")
BACKENDS = [pytest.param("bwrap", marks=needs_bwrap), "fallback"]

READS = {
    "literal": "cat {secret}",
    "built at run time": 'f={head}; cat "${{f}}{tail}"',
    "symlink in the skill": "cat planted-link",
    "python open": "python3 -c 'print(open(\"{secret}\").read())' || {py} -c 'print(open(\"{secret}\").read())'",
}


@pytest.fixture
def root_only(tmp_path_factory) -> Path:
    """A file only root may read, outside /tmp (which the sandbox replaces anyway)."""
    base = Path(tempfile.mkdtemp(prefix="skillctl-rootonly-", dir="/var/tmp"))
    base.chmod(0o755)
    secret = base / "secret.txt"
    secret.write_text("TOP-SECRET-ROOT-ONLY\n")
    secret.chmod(0o600)  # owned by whoever runs the tests; "root-only" when that is root
    yield secret
    shutil.rmtree(base, ignore_errors=True)


def _skill_with_link(tmp_path: Path, target: Path) -> Path:
    folder = tmp_path / "skills" / "thief"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: thief\n---\n")
    (folder / "planted-link").symlink_to(target)
    return folder


def _secrets(root_only: Path) -> list[Path]:
    out = [root_only]
    if Path("/etc/shadow").exists():
        out.append(Path("/etc/shadow"))
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user root-only files are unreadable anyway")
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", sorted(READS))
def test_root_only_files_are_unreadable_inside_a_check_run_by_root(tmp_path, root_only, backend, how):
    for secret in _secrets(root_only):
        folder = _skill_with_link(tmp_path / secret.name, secret)
        text = str(secret)
        script = READS[how].format(secret=text, head=text[:-3], tail=text[-3:], py=sys.executable)
        res = sandbox.run(["bash", "-c", script], folder, backend=backend, limits=Limits(timeout=20))
        assert b"TOP-SECRET" not in res.stdout.head and b"root:" not in res.stdout.head, (secret, how)
        assert res.exit_code != 0, (secret, how, res.stdout.head)
        assert "as uid 0" not in res.detail


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to plant a root-only file and to become nobody")
@needs_nobody
def test_a_non_root_skillctl_gives_checks_no_more_than_its_own_uid(tmp_path, root_only):
    """The same attacks with skillctl itself running as ``nobody`` (the other half of CI)."""
    folder = Path(tempfile.mkdtemp(prefix="skillctl-nonroot-", dir="/var/tmp"))
    try:
        folder.chmod(0o755)
        (folder / "SKILL.md").write_text("---\nname: thief\n---\n")
        (folder / "planted-link").symlink_to(root_only)
        text = str(root_only)
        scripts = [READS[h].format(secret=text, head=text[:-3], tail=text[-3:], py=SYSTEM_PY) for h in sorted(READS)]
        scripts += ["cat /etc/shadow", "id -u"]
        program = textwrap.dedent(f"""
            import json
            from pathlib import Path
            from skillctl import sandbox
            rs = sandbox.run_batch([sandbox.Command(["bash", "-c", s], 20) for s in {scripts!r}], Path({str(folder)!r}))
            print(json.dumps({{"label": sandbox.isolation_label(),
                              "runs": [[r.exit_code, r.stdout.head.decode(), r.error] for r in rs]}}))
        """)
        report = run_as_nobody(program, folder)
        assert report["label"].endswith("as uid 65534")
        *attacks, whoami = report["runs"]
        for exit_code, out, _error in attacks:
            assert "TOP-SECRET" not in out and "root:" not in out and exit_code != 0
        assert whoami[1].strip() == "65534", whoami
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root has a privilege to drop")
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_setpriv_that_drops_nothing_never_runs_a_check_as_root(root_only, monkeypatch, backend):
    """skillctl starts bwrap (and drops root inside it) through whatever ``setpriv`` is on PATH;
    one that accepts the options and changes nothing must not hand a check root's uid."""
    from skillctl.sandbox import base

    bindir = Path(tempfile.mkdtemp(prefix="skillctl-fakebin-", dir="/var/tmp"))  # visible inside bwrap
    try:
        bindir.chmod(0o755)
        fake = bindir / "setpriv"
        fake.write_text('#!/bin/sh\nwhile [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n')
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
        assert base.drop_tool((65534, 65534)) is None
        folder = _skill_with_link(Path(tempfile.mkdtemp(prefix="skillctl-drop-", dir="/var/tmp")), root_only)
        folder.parents[1].chmod(0o755)
        for n in (1, 2):  # bwrap's direct path, then its supervisor
            for res in sandbox.run_batch([Command(["sh", "-c", f"id -u; cat {root_only} planted-link"], 10)] * n,
                                         folder, backend=backend):
                assert b"TOP-SECRET" not in res.stdout.head
                assert res.stdout.head.split(b"\n")[0] == b"65534", (res.stdout.head, res.stderr.tail, res.error)
        shutil.rmtree(folder.parents[1], ignore_errors=True)
    finally:
        shutil.rmtree(bindir, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user root-only files are unreadable anyway")
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_skill_folder_swapped_for_a_link_before_its_copy_is_not_copied(tmp_path, root_only, monkeypatch, backend):
    """The scratch copy is made by root and handed to the check: the skill folder replaced by a
    symlink to a root-only folder after it was found (and digested) must not be copied through."""
    import skillctl.sandbox as sandbox_module

    base = Path(tempfile.mkdtemp(prefix="skillctl-swap-", dir="/var/tmp"))
    try:
        base.chmod(0o755)
        folder = base / "skills" / "swapper"
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text("---\nname: swapper\n---\n")
        real = sandbox_module.refuse_oversized

        def swap_then_measure(path: Path, limits: Limits) -> None:
            real(path, limits)
            path.rename(base / "moved-away")
            path.symlink_to(root_only.parent)

        monkeypatch.setattr(sandbox_module, "refuse_oversized", swap_then_measure)
        try:
            results = sandbox.run_batch([Command(["sh", "-c", f"cat {root_only.name}; ls"], 10)], folder,
                                        backend=backend)
        except InputError as exc:
            assert "symlink" in str(exc)
        else:
            assert all(b"TOP-SECRET" not in r.stdout.head for r in results), [r.stdout.head for r in results]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_verify_refuses_the_attack_end_to_end_and_records_the_real_uid(repo, root_only):
    """The reproduced attack: a check that reads root's files passes only if it can read them."""
    text = str(root_only)
    body = ("# Thief\n\n## Verification\n"
            f"```bash {{check=reads-secret}}\nf={text[:-3]}; cat \"${{f}}{text[-3:]}\" | grep TOP-SECRET\n```\n")
    make_skill(repo, "demo-skill", text=skill_text(body=body))
    report = run_verify(repo, apply=True)
    verdict = report.skills[0]
    entry = read_lock(repo).skills["demo-skill"]
    if os.geteuid() == 0:
        assert verdict.outcome == "failed", verdict.reason
        assert entry.status != "active"
    uid = entry.env["sandbox"].rsplit(" ", 1)[-1]
    assert re.fullmatch(r"(?:bwrap|fallback with(?:out)? private mounts) as uid \d+", entry.env["sandbox"])
    assert uid.isdigit()
    assert int(uid) != 0


# --- scratch space ---------------------------------------------------------------------------


@needs_bwrap
def test_a_check_cannot_fill_ram_through_its_scratch_copy(tmp_path):
    """Today's attack wrote 721 MB into /dev/shm; every writable place is now a capped tmpfs."""
    folder = tmp_path / "skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: hog\n---\n")
    fill = 'for i in 1 2 3 4 5 6; do head -c 60000000 /dev/zero > "{where}/f$i" || exit 7; done; echo filled'
    for where in (".", "/tmp", "/dev/shm", "$HOME", "$TMPDIR"):
        res = sandbox.run(["bash", "-c", fill.format(where=where)], folder, limits=Limits(timeout=60, tmpfs_mb=64))
        assert res.exit_code == 7 and b"filled" not in res.stdout.head, (where, res.stderr.tail)
        assert b"No space left" in res.stderr.tail, (where, res.stderr.tail)
    res = sandbox.run(["bash", "-c", "echo x > /dev/evil"], folder)
    assert res.exit_code != 0 and b"Read-only" in res.stderr.tail


def test_a_skill_larger_than_the_scratch_cap_is_refused_up_front(tmp_path):
    folder = tmp_path / "skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: big\n---\n")
    with open(folder / "blob.bin", "wb") as fh:
        fh.truncate(3 * 1024 * 1024)
    from skillctl.errors import InputError

    with pytest.raises(InputError) as info:
        sandbox.run(["true"], folder, limits=Limits(tmpfs_mb=2))
    assert info.value.code == "SK019"


def _scratch_dirs(base: Path) -> list[Path]:
    return sorted(base.glob(f"{sandbox.SCRATCH_PREFIX}*"))


def _slow_repo(repo: Path, seconds: int = 60) -> None:
    body = f"# Slow\n\n## Verification\n```bash {{check=slow timeout={seconds + 30}}}\nsleep {seconds}\n```\n"
    make_skill(repo, "demo-skill", text=skill_text(body=body))


def _start_verify(repo: Path, scratch: Path) -> subprocess.Popen:
    env = {**os.environ, "SKILLCTL_SCRATCH": str(scratch)}
    return subprocess.Popen([sys.executable, "-m", "skillctl", "verify", "--repo", str(repo)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_scratch(scratch: Path, proc: subprocess.Popen) -> list[Path]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        found = [d for d in _scratch_dirs(scratch) if (d / sandbox.OWNER_FILE).exists()]
        if found:
            time.sleep(0.5)  # the check is running now
            return found
        time.sleep(0.05)
    raise AssertionError("verify never created its scratch dir")


def test_scratch_left_by_a_sigkilled_skillctl_is_swept_on_the_next_start(repo, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    _slow_repo(repo)
    proc = _start_verify(repo, scratch)
    left = _wait_for_scratch(scratch, proc)
    os.kill(proc.pid, signal.SIGKILL)  # no finally block runs: the scratch dir stays behind
    proc.wait(10)
    assert all(d.exists() for d in left)
    # Things the sweep must never touch: a live owner's dir, a dir that is not ours, a symlink.
    live = scratch / f"{sandbox.SCRATCH_PREFIX}{os.getpid()}-live"
    live.mkdir()
    (live / sandbox.OWNER_FILE).write_text(f"{os.getpid()} {sandbox._start_ticks(os.getpid())}\n")
    foreign = scratch / f"{sandbox.SCRATCH_PREFIX}1-foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("no owner file: not provably ours\n")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / sandbox.OWNER_FILE).write_text("999999 1\n")
    (scratch / f"{sandbox.SCRATCH_PREFIX}999999-link").symlink_to(victim)
    make_skill(repo, "demo-skill")  # a quick run this time
    env = {**os.environ, "SKILLCTL_SCRATCH": str(scratch)}
    done = subprocess.run([sys.executable, "-m", "skillctl", "verify", "--repo", str(repo)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not any(d.exists() for d in left)
    assert live.exists() and (foreign / "keep.txt").exists() and victim.exists()


def test_a_terminated_skillctl_cleans_up_on_the_way_out(repo, tmp_path):
    """``timeout 30 skillctl verify`` sends SIGTERM: sandboxes die, scratch goes, exit 130."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    _slow_repo(repo)
    proc = _start_verify(repo, scratch)
    _wait_for_scratch(scratch, proc)
    os.kill(proc.pid, signal.SIGTERM)
    code = proc.wait(20)
    assert code == 130, proc.stderr.read() if proc.stderr else ""
    assert _scratch_dirs(scratch) == []


# --- one sandbox per skill, each check still on its own ---------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_checks_sharing_a_sandbox_cannot_see_or_outlive_each_other(tmp_path, backend):
    folder = tmp_path / "skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: pair\n---\n")
    marker = 300 + os.getpid() % 1000  # a sleep no other test starts
    commands = [
        Command(["bash", "-c", f"echo dirty > left-behind; echo $$ > $HOME/pid; (setsid sleep {marker} &); echo ok"],
                10),
        Command(["bash", "-c", "test ! -e left-behind && test ! -e $HOME/pid"], 10),
        Command(["bash", "-e", "-c", "false; echo not-reached"], 10),
        Command(["bash", "-c", "sleep 30"], 1),
        Command(["bash", "-c", "echo still-runs"], 10),
        Command(["bash", "-c", "head -c 10000000 /dev/zero | tr '\\0' x; echo tail-end"], 20),
    ]
    results = sandbox.run_batch(commands, folder, backend=backend)
    assert [r.exit_code for r in results[:3]] == [0, 0, 1], [r.stderr.tail for r in results]
    if backend == "bwrap" or os.geteuid() == 0:  # pid namespace, or the per-command pids cgroup
        assert subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode == 1
    assert b"not-reached" not in results[2].stdout.head
    assert results[3].timed_out and not results[4].timed_out
    assert results[4].stdout.head == b"still-runs\n"
    flood = results[5].stdout  # each check's output is capped on its own, and fully drained
    assert flood.truncated and len(flood.head) == 64 * 1024 and flood.total == 10_000_009
    assert flood.tail.endswith(b"tail-end\n") and results[5].exit_code == 0
    assert not (folder / "left-behind").exists()


FORGED = "R 1 0 - 0 0.0 0 - - 0 - - -"  # the report line of a pass for check 1, exactly as the supervisor writes it


@needs_bwrap
def test_a_check_cannot_forge_the_verdict_of_the_next_one(tmp_path):
    """Same uid as the supervisor, so it prints report lines and writes them into every fd in
    /proc (the supervisor's report pipe among them, were it dumpable): check 1 still fails."""
    folder = tmp_path / "skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: forger\n---\n")
    attack = (f"printf '{FORGED}\\nD\\n'; printf '{FORGED}\\n' >&2; "
              f"for fd in /proc/[0-9]*/fd/*; do printf '\\n{FORGED}\\nD\\n' > \"$fd\" 2>/dev/null; done; true")
    results = sandbox.run_batch([Command(["bash", "-c", attack], 10), Command(["bash", "-c", "exit 3"], 10)], folder)
    assert results[0].exit_code == 0 and FORGED.encode() in results[0].stdout.head  # captured as its output
    assert results[1].exit_code == 3


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")
@needs_nobody
def test_a_check_cannot_forge_the_verdict_of_the_next_one_under_a_normal_user(tmp_path):
    """Run by a normal user, bwrap keeps the uid inside, so no credential change makes the
    supervisor non-dumpable for it: only its own prctl keeps the forger off its report pipe."""
    folder = Path(tempfile.mkdtemp(prefix="skillctl-forge-", dir="/var/tmp"))
    try:
        folder.chmod(0o755)
        (folder / "SKILL.md").write_text("---\nname: forger\n---\n")
        (folder / "SKILL.md").chmod(0o644)
        attack = (f"for fd in /proc/[0-9]*/fd/*; do printf '\\n{FORGED}\\nD\\n' > \"$fd\" 2>/dev/null; done; true")
        program = textwrap.dedent(f"""
            import json
            from pathlib import Path
            from skillctl import sandbox
            rs = sandbox.run_batch([sandbox.Command(["bash", "-c", {attack!r}], 10),
                                    sandbox.Command(["bash", "-c", "exit 3"], 10)], Path({str(folder)!r}))
            print(json.dumps({{"detail": rs[0].detail, "codes": [r.exit_code for r in rs]}}))
        """)
        report = run_as_nobody(program, folder)
        if "2 checks in one sandbox" not in report["detail"]:
            pytest.skip(f"no supervised bwrap for a normal user here: {report['detail']}")
        assert report["codes"] == [0, 3]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="runs the supervisor in a pid namespace of its own (needs root and unshare)")
def test_a_supervisor_that_cannot_guard_its_report_runs_none_of_several_checks(tmp_path):
    """Non-dumpable is what keeps a check (same uid) off the report pipe; where the supervisor
    cannot make itself so (no ctypes), it must not run checks whose reports could be forged."""
    import marshal

    from skillctl.sandbox.base import Plan
    from skillctl.sandbox.batch import _accept
    from skillctl.sandbox.bwrap import SUPERVISOR

    src, run = tmp_path / "src", tmp_path / "run"
    src.mkdir()
    run.mkdir()
    (src / "SKILL.md").write_text("---\nname: x\n---\n")
    check = {"argv": ["sh", "-c", "exit 0"], "timeout": 10, "env": {"PATH": "/usr/bin:/bin"}}
    job = {"drop": None, "src": str(src), "run": str(run), "cap": 1024, "checks": [check, check]}
    future = "from __future__ import annotations\n"
    assert future in SUPERVISOR
    program = SUPERVISOR.replace(future, future + "import sys\nsys.modules['ctypes'] = None  # no ctypes here\n", 1)
    # in a pid namespace of its own, as in bwrap: the supervisor kills every other process it sees
    proc = subprocess.run(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", sys.executable, "-I", "-S",
                           "-c", program], input=marshal.dumps(job), capture_output=True, timeout=60)
    assert proc.stdout.endswith(b"D\n"), proc.stderr
    results: list = [None, None]
    for line in proc.stdout.split(b"\n"):
        _accept(line, results, 1024, Plan(argv=[], isolation="bwrap", detail="d"), "d", None)
    assert all(r is not None and r.exit_code is None and "non-dumpable" in (r.error or "") for r in results)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_full_skill_at_the_cap_runs_in_as_many_sandboxes_as_workers(repo, jobs):
    """One skill with the most checks allowed: one sandbox per worker, results in file order."""
    checks = "".join(f"```bash {{check=c{i}}}\necho ok-{i}\n```\n```output {{for=c{i}}}\nok-{i}\n```\n"
                     for i in range(199))
    checks += "```bash {check=bad}\necho wrong\n```\n```output {for=bad}\nright\n```\n"
    make_skill(repo, "demo-skill", text=skill_text(body=f"# Many\n\n## Verification\n{checks}"))
    verdict = run_verify(repo, jobs=jobs).skills[0]
    assert [c.id for c in verdict.checks] == [*(f"c{i}" for i in range(199)), "bad"]
    by_id = {c.id: c for c in verdict.checks}
    assert all(by_id[f"c{i}"].status == "pass" for i in range(199))
    assert by_id["bad"].status == "fail" and "output mismatch" in by_id["bad"].reason
    if BWRAP_OK:
        size = f"{200 // jobs} checks in one sandbox"
        assert size in (by_id["c0"].isolation_detail or "") and size in (by_id["c198"].isolation_detail or "")
