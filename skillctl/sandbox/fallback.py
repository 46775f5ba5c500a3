"""The backend for machines where bwrap cannot run: rlimits, a scrubbed env, a new session.

It is weaker and says so: the host filesystem stays visible (root-owned secrets are protected
by always dropping to ``nobody`` when skillctl runs as root) and the network is cut only when this
process may create a network namespace. Where it may create a mount namespace, the host is
read-only and every writable place is a private, capped tmpfs (``mounts.py``); elsewhere
scratch space is bounded per file only and ``/tmp`` is shared. ``detail`` spells out what was
and was not isolated so the evidence in the lock never overstates it.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess

from skillctl.sandbox import mounts
from skillctl.sandbox.base import CLONE_NEWNET, Limits, Plan, _libc, make_preexec, process_budget, unprivileged_ids

PR_SET_PDEATHSIG = 1


@functools.cache
def can_isolate_network() -> bool:
    """Unsharing the network needs CAP_SYS_ADMIN; find out once instead of failing each run."""
    return _child_succeeds(make_preexec(Limits(), nproc=1 << 20, drop_to=None, isolate_network=True))


def _child_succeeds(preexec, argv: list[str] | None = None) -> bool:
    try:
        proc = subprocess.run(
            argv or ["true"], preexec_fn=preexec, stdin=subprocess.DEVNULL, capture_output=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def build_plan(argv: list[str], limits: Limits, *, network: bool, reason: str,
               layout: mounts.Layout | None = None) -> Plan:
    """Wrap nothing; everything happens in the child's preexec hook.

    As root the command always drops to ``nobody``, even when that makes an interpreter under
    ``/root`` unreachable: a check that cannot start fails visibly, while a check that runs as
    root could read every root-only file on the host. With a *layout* (``mounts.available()``
    said yes) the hook first enters the private mounts; the network namespace comes with them.
    """
    drop_to = unprivileged_ids()
    isolate_net = not network and can_isolate_network()
    nproc = process_budget(limits, drop_to)
    uid = drop_to[0] if drop_to else os.getuid()
    parts = [f"fallback as uid {uid}: rlimits + scrubbed env"]
    if layout is not None:
        enter = mounts.enter(layout, as_root=os.geteuid() == 0, extra_flags=0 if network else CLONE_NEWNET)
        rest = make_preexec(limits, nproc=nproc, drop_to=drop_to)
        libc = _libc()

        def preexec() -> None:
            enter()  # returns in the check's own process, inside its pid namespace
            rest()
            # Like bwrap's --die-with-parent (after the drop, which would clear it): the
            # namespace's init gone, the check goes too (the init itself dies with skillctl).
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

        parts += ["host filesystem visible read-only", "private /tmp, /var/tmp, /dev/shm",
                  f"writable space: tmpfs {limits.tmpfs_mb} MiB each", "own pid namespace and /proc"]
        isolate_net = not network
    else:
        preexec = make_preexec(limits, nproc=nproc, drop_to=drop_to, isolate_network=isolate_net)
        parts += ["host filesystem visible", "/tmp shared",
                  "scratch space not capped (only each file, by RLIMIT_FSIZE)"]
    if not network:
        parts.append("network namespace" if isolate_net else "NETWORK NOT ISOLATED")
    if reason:
        parts.append(f"bwrap unavailable: {reason}")
    return Plan(
        argv=list(argv), isolation="fallback", detail="; ".join(parts), preexec=preexec, run_as=drop_to, uid=uid
    )
