"""Run checks on a thread pool so that Ctrl-C stops promptly and cleanly.

A KeyboardInterrupt raised asynchronously inside ``concurrent.futures.wait`` can leave a
future's lock held and deadlock the pool's shutdown. So while checks run, SIGINT only sets a
flag and kills the sandboxes; the interrupt is re-raised from a safe point once every worker
has returned.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from skillctl import sandbox

T = TypeVar("T")
R = TypeVar("R")
J = TypeVar("J")
C = TypeVar("C")
MIN_SHARE = 16  # checks per sandbox below which starting another sandbox costs more than it saves


def spread(work: list[tuple[J, list[C]]], jobs: int) -> list[tuple[J, list[C]]]:
    """Split the checks of a skill that would keep one worker busy while the others idle.

    The pool's unit is one skill's checks in one sandbox; a skill with most of the checks of a
    run would run them one after another on one worker. Such a skill gets up to *jobs*
    sandboxes of its own, in proportion to its share of all checks and never with fewer than
    MIN_SHARE checks each. Two sandboxes of one skill share nothing, so every guarantee a
    check had in one sandbox it keeps in its half; checks of two skills never share one.
    """
    total = sum(len(checks) for _item, checks in work)
    if jobs < 2 or total == 0:
        return work
    out: list[tuple[J, list[C]]] = []
    for item, checks in work:
        pieces = max(1, min(jobs, -(-len(checks) * jobs // total), len(checks) // MIN_SHARE))
        size = -(-len(checks) // pieces)
        out.extend((item, checks[k:k + size]) for k in range(0, len(checks), size))
    return out


def run_parallel(items: list[T], fn: Callable[[T], R], jobs: int, on_result: Callable[[T, R], None]) -> None:
    """Call ``fn`` on every item with at most *jobs* running; ``on_result`` runs in this thread."""
    if not items:
        return
    stop = threading.Event()

    def on_sigint(_signum: int, _frame: object) -> None:
        stop.set()
        sandbox.kill_all()

    previous: dict[signal.Signals, object] = {}
    if threading.current_thread() is threading.main_thread():
        # SIGTERM too (``timeout``, CI cancelling a job): sandboxes are killed and their scratch
        # removed on the way out, instead of the interpreter dying on the spot.
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_sigint)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="skillctl-check")
    futures: dict[Future, T] = {pool.submit(fn, item): item for item in items}
    try:
        remaining = set(futures)
        while remaining and not stop.is_set():
            done, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                on_result(futures[fut], fut.result())
    finally:
        for fut in futures:
            fut.cancel()
        while stop.is_set() and any(f.running() for f in futures):
            sandbox.kill_all()  # a sandbox that was still starting registers a moment later
            wait([f for f in futures if f.running()], timeout=0.05)
        pool.shutdown(wait=True)
        for restored, handler in previous.items():
            signal.signal(restored, handler)  # type: ignore[arg-type]
    if stop.is_set():
        raise KeyboardInterrupt
