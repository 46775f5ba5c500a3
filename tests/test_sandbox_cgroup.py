"""The pids cgroup a sandbox runs in when skillctl is root, and the launcher threads behind it.

A cgroup v1 hierarchy lets skillctl park one thread per cgroup and fork sandboxes from there, so
no process is ever moved (a move costs an RCU grace period). These tests hold that reuse to the
promise of a cgroup per sandbox: the next sandbox starts in an empty cgroup with its whole
budget, skillctl itself is never among the processes killed, and cgroups left by a SIGKILLed
skillctl are swept on the next start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from skillctl import sandbox
from skillctl.sandbox import Command, Limits, cgroup

WORKTREE = Path(__file__).resolve().parents[1]
ROOT_WITH_PIDS = os.geteuid() == 0 and cgroup._hierarchy() is not None
needs_pids_cgroup = pytest.mark.skipif(not ROOT_WITH_PIDS, reason="needs root and a writable pids cgroup")
V1 = ROOT_WITH_PIDS and not (cgroup._hierarchy() / "cgroup.controllers").is_file()  # type: ignore[operator]
BACKENDS = [pytest.param("bwrap", marks=pytest.mark.skipif(sandbox.available_isolation()[0] != "bwrap",
                                                          reason="bwrap unusable here")), "fallback"]
FORKS = ("import os, time\nmade = 0\nfor _ in range({n}):\n    try:\n        if os.fork() == 0:\n"
         "            time.sleep(30)\n            os._exit(0)\n        made += 1\n    except OSError:\n        break\n"
         "print(made)\n")


@pytest.fixture
def skill(tmp_path: Path) -> Path:
    folder = tmp_path / "skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: demo\n---\n")
    return folder


def _py(backend: str) -> str:
    system = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.access(p, os.X_OK)), None)
    return system if backend == "fallback" and system else sys.executable


@needs_pids_cgroup
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fork_bomb_leaves_the_next_sandbox_its_whole_budget(skill, backend):
    """The same launcher cgroup serves both sandboxes: it must come back empty and unshrunk."""
    bomb = sandbox.run([_py(backend), "-c", FORKS.format(n=500)], skill, backend=backend,
                       limits=Limits(timeout=5, processes=32))
    assert 0 <= int(bomb.stdout.head or b"-1") <= 32 + 8, (bomb.stdout.head, bomb.error)
    after = sandbox.run([_py(backend), "-c", FORKS.format(n=24)], skill, backend=backend,
                        limits=Limits(timeout=10, processes=32))
    assert after.stdout.head.strip() == b"24", (after.stdout.head, after.stderr.tail, after.error)


@needs_pids_cgroup
@pytest.mark.parametrize("backend", BACKENDS)
def test_nothing_of_one_sandbox_survives_into_the_next(skill, backend):
    marker = f"{200 + uuid.uuid4().int % 500}"
    first = sandbox.run(["bash", "-c", f"(setsid sleep {marker} &) ; echo started"], skill, backend=backend)
    assert first.stdout.head == b"started\n"
    found = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True)
    assert found.returncode == 1, found.stdout
    for launcher in list(cgroup._IDLE):
        assert [p for p in launcher.cgroup.pids() if p != os.getpid()] == []


@pytest.mark.skipif(not V1, reason="launcher threads need a cgroup v1 pids hierarchy")
def test_sandboxes_are_born_in_a_reused_cgroup_never_moved_into_one(skill):
    commands = [Command(["true"], 10)]
    sandbox.run_batch(commands, skill)
    before = {id(launcher) for launcher in cgroup._ALL}
    for _ in range(3):
        assert sandbox.run_batch(commands, skill)[0].exit_code == 0
    assert {id(launcher) for launcher in cgroup._ALL} == before  # no new cgroup, no new move
    assert all(launcher.cgroup.charged() <= 1 + cgroup.MAX_ZOMBIES for launcher in cgroup._ALL)


@needs_pids_cgroup
def test_skillctl_is_never_killed_by_its_own_cleanup(skill):
    """The launcher thread sits in the cgroup that is emptied; the emptying must skip us."""
    program = textwrap.dedent(f"""
        from pathlib import Path
        from skillctl import sandbox
        from skillctl.sandbox import Limits
        for backend in ("bwrap", "fallback") if sandbox.available_isolation()[0] == "bwrap" else ("fallback",):
            sandbox.run(["sleep", "30"], Path({str(skill)!r}), backend=backend, limits=Limits(timeout=0.5))
            sandbox.run(["true"], Path({str(skill)!r}), backend=backend)
        print("alive")
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(WORKTREE)})
    assert done.returncode == 0 and done.stdout.strip() == "alive", (done.returncode, done.stderr[-500:])


@needs_pids_cgroup
def test_cgroups_of_a_dead_skillctl_are_swept_and_a_live_ones_kept():
    base = cgroup._hierarchy()
    assert base is not None
    dead = base / f"{cgroup.PREFIX}999999.1-{uuid.uuid4().hex[:8]}"
    live = base / f"{cgroup.PREFIX}{os.getpid()}.{cgroup.start_ticks(os.getpid())}-{uuid.uuid4().hex[:8]}"
    older = base / f"{cgroup.PREFIX}999998-{uuid.uuid4().hex[:8]}"  # unstamped, as older skillctl named them
    probe = base / f"{cgroup.PREFIX}probe-{uuid.uuid4().hex[:8]}"
    for path in (dead, live, older, probe):
        path.mkdir()
    try:
        cgroup.sweep_stale_cgroups.cache_clear()
        assert cgroup.sweep_stale_cgroups() >= 2
        assert not dead.exists() and not older.exists()
        assert live.exists() and probe.exists()
    finally:
        for path in (dead, live, older, probe):
            if path.exists():
                path.rmdir()
