"""The backend for machines where bwrap cannot run: rlimits, a scrubbed env, a new session.

It is weaker and says so: the host filesystem stays visible (root-owned secrets are protected
by always dropping to ``nobody`` when skillctl runs as root) and the network is cut only when this
process may create a network namespace. ``detail`` spells out what was and was not isolated so
the evidence in the lock never overstates it.
"""

from __future__ import annotations

import functools
import os
import subprocess

from skillctl.sandbox.base import Limits, Plan, make_preexec, process_budget, unprivileged_ids


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


def build_plan(argv: list[str], limits: Limits, *, network: bool, reason: str) -> Plan:
    """Wrap nothing; everything happens in the child's preexec hook.

    As root the command always drops to ``nobody``, even when that makes an interpreter under
    ``/root`` unreachable: a check that cannot start fails visibly, while a check that runs as
    root could read every root-only file on the host.
    """
    drop_to = unprivileged_ids()
    isolate_net = not network and can_isolate_network()
    preexec = make_preexec(
        limits, nproc=process_budget(limits, drop_to), drop_to=drop_to, isolate_network=isolate_net
    )
    uid = drop_to[0] if drop_to else os.getuid()
    parts = [f"fallback as uid {uid}: rlimits + scrubbed env", "host filesystem visible",
             "scratch space not capped (only each file, by RLIMIT_FSIZE)"]
    if not network:
        parts.append("network namespace" if isolate_net else "NETWORK NOT ISOLATED")
    if reason:
        parts.append(f"bwrap unavailable: {reason}")
    return Plan(
        argv=list(argv), isolation="fallback", detail="; ".join(parts), preexec=preexec, run_as=drop_to, uid=uid
    )
