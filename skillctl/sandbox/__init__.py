"""Run one untrusted command against a throwaway copy of a skill folder.

Skill content is never trusted (docs/DESIGN.md, "The trust model"): the folder is copied to a fresh scratch directory,
the command runs there under the strongest isolation this machine offers (bwrap, else the
rlimit fallback), with an allow-listed environment, a deadline enforced by killing the whole
process group, and output capped while still being drained so a chatty check cannot block or
exhaust memory. The result records which isolation was used, because evidence that overstates
its own strength is worse than none.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from skillctl.errors import SandboxError
from skillctl.sandbox import bwrap as sandbox_bwrap
from skillctl.sandbox import fallback as sandbox_fallback
from skillctl.sandbox import mounts
from skillctl.sandbox.base import TAIL_BYTES, Captured, Command, Limits, SandboxResult, drop_tool, unprivileged_ids
from skillctl.sandbox.base import start_ticks as _start_ticks
from skillctl.sandbox.batch import DEFAULT_PATH, supervise_batch
from skillctl.sandbox.cgroup import sweep_stale_cgroups
from skillctl.sandbox.process import execute, kill_all
from skillctl.sandbox.scratch import (
    OWNER_FILE,
    SCRATCH_PREFIX,
    chown_tree,
    copy_skill,
    make_scratch,
    refuse_oversized,
    remove,
    scratch_base,
    sweep_stale_scratch,
)

__all__ = ["DEFAULT_PATH", "OWNER_FILE", "SCRATCH_PREFIX", "TAIL_BYTES", "Captured", "Command", "Limits",
           "SandboxResult", "_start_ticks", "available_isolation", "isolation_label", "kill_all", "make_scratch", "run",
           "run_batch", "scratch_base", "sweep_stale_scratch"]

Backend = Literal["auto", "bwrap", "fallback"]
BASE_ENV = {"LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


def available_isolation() -> tuple[str, str]:
    """``("bwrap", "")`` or ``("fallback", why bwrap is unusable)``; probed once per process."""
    binary, _mode, reason = sandbox_bwrap.probe()
    return ("bwrap", "") if binary else ("fallback", reason)


def isolation_label() -> str:
    """What the lock records as ``env.sandbox``: the backend *and* the uid checks really run as.

    ``bwrap`` alone said nothing about whether a check could read root's files; the uid does.
    The fallback also says whether its private mounts applied (a read-only host and capped
    private scratch) or not (the host visible and /tmp shared): two different kinds of evidence.
    """
    binary, _mode, _reason = sandbox_bwrap.probe()
    ids = unprivileged_ids()
    uid = ids[0] if ids else os.getuid()
    if binary:
        return f"bwrap as uid {uid}"
    return f"fallback {'with' if not mounts.available() else 'without'} private mounts as uid {uid}"


def run(
    argv: list[str],
    folder: Path,
    *,
    limits: Limits | None = None,
    network: bool = False,
    env: dict[str, str] | None = None,
    hide: tuple[Path, ...] = (),
    require_sandbox: bool = False,
    backend: Backend = "auto",
) -> SandboxResult:
    """Run ``argv`` inside a scratch copy of ``folder``; the original folder is never written.

    ``env`` holds the only variables passed besides PATH/LANG/HOME/TMPDIR; ``hide`` lists extra
    host paths to mask (the repository's ``.git``). Raises SandboxError when ``require_sandbox``
    is set and bwrap is unusable, InputError when the folder cannot be copied.
    """
    limits = limits or Limits()
    command = Command(list(argv), limits.timeout, dict(env or {}))
    return run_batch([command], folder, limits=limits, network=network, hide=hide,
                     require_sandbox=require_sandbox, backend=backend)[0]


def run_batch(
    commands: list[Command],
    folder: Path,
    *,
    limits: Limits | None = None,
    network: bool = False,
    hide: tuple[Path, ...] = (),
    require_sandbox: bool = False,
    backend: Backend = "auto",
    on_result: Callable[[int, SandboxResult], None] | None = None,
) -> list[SandboxResult]:
    """Run several commands against fresh copies of one folder, in ONE sandbox when bwrap works.

    Each command keeps its own deadline, output caps, working copy, $HOME and $TMPDIR, and
    nothing it started survives into the next (see ``supervisor.py``). Commands of one batch
    must belong to one skill: they share a sandbox, so one could disturb another's run. The
    results come back in order; ``on_result`` sees each as soon as it is known.
    """
    limits = limits or Limits()
    sweep_stale_scratch()
    sweep_stale_cgroups()
    if backend == "fallback":
        binary, mode, reason = None, "", "fallback requested"
    else:
        binary, mode, reason = sandbox_bwrap.probe()
    if binary is None and (require_sandbox or backend == "bwrap"):
        raise SandboxError(f"a real sandbox is required but {reason}")
    if not commands:
        return []
    refuse_oversized(folder, limits)
    if binary is None:
        results = []
        for i, command in enumerate(commands):
            one = dataclasses.replace(limits, timeout=command.timeout)
            results.append(_run_fallback(command, folder, one, network, reason))
            if on_result:
                on_result(i, results[-1])
        return results
    return _run_bwrap(binary, mode, commands, folder, limits, network, hide, on_result)


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    return {**BASE_ENV, "PATH": os.environ.get("PATH") or DEFAULT_PATH, **extra}


def _run_fallback(command: Command, folder: Path, limits: Limits, network: bool, reason: str) -> SandboxResult:
    """With private mounts, the layout and ``cp`` of bwrap's direct path; else a copy on the host."""
    scratch = make_scratch()
    try:
        if not mounts.available():
            src = scratch / "src"
            src.mkdir()
            copy_skill(folder, src / "skill", limits)
            (src / "home").mkdir()
            (src / "tmp").mkdir()
            (scratch / "run").mkdir()
            run = scratch / "run"
            argv = ["sh", "-c", _DIRECT, "sh", str(src), str(run), *command.argv]
            plan = sandbox_fallback.build_plan(argv, limits, network=network, reason=reason,
                                               layout=mounts.Layout(scratch, limits.tmpfs_mb))
            workdir, home, tmp = Path("/"), run / "home", run / "tmp"
        else:
            plan = sandbox_fallback.build_plan(command.argv, limits, network=network, reason=reason)
            workdir, home, tmp = scratch / "skill", scratch / "home", scratch / "tmp"
            copy_skill(folder, workdir, limits)
            home.mkdir()
            tmp.mkdir()
        if plan.run_as:
            chown_tree(scratch, plan.run_as)
        child_env = _child_env(command.env)
        child_env.update(HOME=str(home), TMPDIR=str(tmp))
        return execute(plan, workdir, child_env, limits)
    finally:
        remove(scratch)


def _run_bwrap(binary: str, mode: str, commands: list[Command], folder: Path, limits: Limits, network: bool,
               hide: tuple[Path, ...], on_result: Callable[[int, SandboxResult], None] | None) -> list[SandboxResult]:
    """Copy the skill once to ``src/skill`` (bound read-only), then run the commands on copies
    of it made inside the sandbox, on the capped tmpfs mounted at ``run``."""
    scratch = make_scratch()
    try:
        src = scratch / "src"
        src.mkdir()
        copy_skill(folder, src / "skill", limits)
        (scratch / "run").mkdir()
        setpriv = drop_tool(unprivileged_ids() or (65534, 65534)) if mode == "root-drop" else None
        if len(commands) == 1 and (mode != "root-drop" or setpriv):
            (src / "home").mkdir()
            (src / "tmp").mkdir()
            result = _run_direct(binary, mode, scratch, commands[0], limits, network, hide, setpriv)
            if on_result:
                on_result(0, result)
            return [result]
        plan = sandbox_bwrap.build_plan(binary, mode, scratch, dataclasses.replace(
            limits, timeout=max(c.timeout for c in commands)), network=network, hide=tuple(hide))
        if plan.run_as:
            chown_tree(scratch, plan.run_as)
        job = {"drop": plan.drop_inside, "src": str(src / "skill"), "run": str(scratch / "run"),
               "cap": limits.output_bytes,
               "checks": [{"argv": c.argv, "timeout": c.timeout, "env": _child_env(c.env)} for c in commands]}
        return supervise_batch(plan, scratch, job, commands, limits, on_result)
    finally:
        remove(scratch)


# One process before the check: ``cp`` brings the skill, $HOME and $TMPDIR onto the tmpfs.
_DIRECT = 'cp -RPp "$1/skill" "$1/home" "$1/tmp" "$2" && cd "$2/skill" && shift 2 && exec "$@"'


def _run_direct(binary: str, mode: str, scratch: Path, command: Command, limits: Limits, network: bool,
                hide: tuple[Path, ...], setpriv: str | None) -> SandboxResult:
    """A batch of one needs no supervisor: its start-up would cost more than the check.

    ``sh`` (and, when root must be dropped, util-linux ``setpriv``) copies the skill onto the
    capped tmpfs and execs the check. Its deadline and output caps are enforced from outside;
    when it exits, bwrap tears down the pid namespace, which kills whatever it left running.
    """
    run = scratch / "run"
    drop = []
    if mode == "root-drop":
        ids = unprivileged_ids() or (65534, 65534)
        drop = [setpriv or "setpriv", f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups", "--"]
    inner = [*drop, "sh", "-c", _DIRECT, "sh", str(scratch / "src"), str(run), *command.argv]
    one = dataclasses.replace(limits, timeout=command.timeout)
    plan = sandbox_bwrap.build_plan(binary, mode, scratch, one, network=network, hide=tuple(hide), command=inner)
    if plan.run_as:
        chown_tree(scratch, plan.run_as)
    env = _child_env(command.env)
    env.update(HOME=str(run / "home"), TMPDIR=str(run / "tmp"))
    return execute(plan, scratch, env, one)
