"""Sandboxed verification against bare ``subprocess.run``: what isolation costs per check.

Run: ``.venv/bin/python benchmarks/verify.py``. Measurements alternate between the variants
in every round (A, B, C, A, B, C, ...) so a noisy shared machine skews them alike, and the
median of each is reported. Targets (issues #4, #11):

- <= 25 ms overhead per check over bare ``subprocess.run``, as root *and* as a normal user
  (run as root, the script measures the non-root case too by re-running part 1 as ``nobody``
  through ``setpriv`` with a system python, when both exist);
- 200 trivial checks of ONE skill at ``-j 2`` in <= 2x the time of 200 bare sequential
  ``subprocess.run`` calls (all checks of a skill share one sandbox);
- cached re-verify of 1,000 unchanged skills <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import make_synthetic

from skillctl import sandbox
from skillctl.clock import utcnow
from skillctl.lock import skill_digest, write_lock
from skillctl.lockmodel import Lock, LockEntry
from skillctl.model import Check
from skillctl.verify import environment_fingerprint, run_verify
from skillctl.verify.pool import run_parallel
from skillctl.verify.runner import run_check


def interleaved(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds per call of each variant, measured round-robin."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def per_check_overhead(folder: Path, rounds: int) -> None:
    who = f"uid {os.geteuid()}" + (" (root)" if os.geteuid() == 0 else "")
    print(f"\n1. one trivial check as {who}, {sandbox.isolation_label()} (median of {rounds}, interleaved)")
    for label, code, bare in (
        ("bash: true", "true", ["bash", "-c", "true"]),
        ("python: pass", "pass", [sys.executable, "-c", "pass"]),
    ):
        language = "python" if code == "pass" else "bash"
        check = Check(id="t", language=language, code=code, line=1)
        # The check's own environment for the bare run too: an inherited PYTHONPATH (the non-root
        # re-run sets one) slows python's start and would flatter the sandbox.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": tempfile.gettempdir()}
        variants: dict[str, Callable[[], object]] = {
            "bare": lambda bare=bare, env=env: subprocess.run(bare, check=False, env=env)}
        backends = ["bwrap"] if sandbox.available_isolation()[0] == "bwrap" else []
        failing: dict[str, str] = {}
        for backend in [*backends, "fallback"]:
            # A check that cannot start is fast: time only variants whose check really passes.
            first = run_check(check, folder, backend=backend)  # type: ignore[arg-type]
            if first.passed:
                variants[backend] = lambda check=check, b=backend: run_check(check, folder, backend=b)
            else:
                failing[backend] = first.reason
        med = interleaved(variants, rounds)
        base = med["bare"]
        cells = [f"bare {base * 1000:.1f} ms"]
        for name in ("bwrap", "fallback"):
            if name in med:
                cells.append(f"{name} {med[name] * 1000:.1f} ms (+{(med[name] - base) * 1000:.1f} ms, "
                             f"{med[name] / base:.1f}x)")
            elif name in failing:
                cells.append(f"{name} not timed, the check fails here: {failing[name][:60]}")
        print(f"   {label:13} " + "; ".join(cells))
    print("   target: bwrap overhead <= 25 ms per check")


def one_skill_many_checks(tmp: Path, count: int, jobs: int, rounds: int) -> None:
    """The issue #11 target: 200 trivial checks of one skill, whole ``run_verify``, vs bare.

    Both sides are timed in alternation, ``rounds`` times each, and the medians compared: one
    run of each on a shared machine can differ by 2x either way.
    """
    print(f"\n2. one skill with {count} trivial checks, run_verify -j {jobs} vs {count} sequential bare "
          f"subprocess.run (median of {rounds}, interleaved)")
    root = tmp / "one-skill"
    folder = root / "skills" / "many-checks"
    folder.mkdir(parents=True)
    blocks = "".join(f"```bash {{check=c{i}}}\necho ok-{i}\n```\n```output {{for=c{i}}}\nok-{i}\n```\n"
                     for i in range(count))
    (folder / "SKILL.md").write_text(
        "---\nname: many-checks\ndescription: Many trivial checks. Use when benchmarking.\n---\n"
        f"# Many\n\n## Verification\n{blocks}")
    write_lock(root, Lock())

    def bare() -> None:
        for i in range(count):
            subprocess.run(["bash", "-c", f"echo ok-{i}"], check=False, capture_output=True)

    def full() -> None:
        verdict = run_verify(root, force=True, jobs=jobs).skills[0]
        assert verdict.outcome == "passed" and len(verdict.checks) == count, verdict.reason

    med = interleaved({"bare": bare, "full": full}, rounds)
    print(f"   bare sequential {med['bare']:5.2f} s; run_verify -j {jobs} {med['full']:5.2f} s  "
          f"({med['full'] / med['bare']:.2f}x bare; target <= 2x)")


def many_checks(tmp: Path, count: int, jobs: int) -> None:
    print(f"\n3. {count} skills with one trivial check each, -j {jobs} sandboxed vs sequential bare subprocess.run")
    root = tmp / "many"
    folders = make_synthetic(root, count)
    write_lock(root, Lock())
    for label, language, argv_of, code_of in (
        ("bash echo", "bash", lambda i: ["bash", "-c", f"echo ok-{i}"], lambda i: f"echo ok-{i}"),
        ("python print", "python", lambda i: [sys.executable, "-c", f"print('ok-{i}')"],
         lambda i: f"print('ok-{i}')"),
    ):
        t0 = time.perf_counter()
        for i in range(count):
            subprocess.run(argv_of(i), check=False, capture_output=True)
        bare = time.perf_counter() - t0
        checks = [(f, Check(id="runs", language=language, code=code_of(i), line=1, expected_output=f"ok-{i}"))
                  for i, f in enumerate(folders)]
        results: list = []
        t0 = time.perf_counter()
        run_parallel(checks, lambda item: run_check(item[1], item[0]), jobs,
                     lambda _i, r, results=results: results.append(r))
        pool = time.perf_counter() - t0
        assert all(r.passed for r in results), [r.reason for r in results if not r.passed][:3]
        print(f"   {label:13} bare {bare:5.2f} s; sandboxed -j {jobs} {pool:5.2f} s  "
              f"({pool / bare:.2f}x bare; target <= 0.7x)")
    t0 = time.perf_counter()
    report = run_verify(root, force=True, jobs=jobs)
    full = time.perf_counter() - t0
    assert all(v.outcome == "passed" for v in report.skills), [v.reason for v in report.skills][:3]
    print(f"   whole run_verify on the {count} echo skills (parse + digest + scan + checks): {full:.2f} s")


def cached(tmp: Path, count: int) -> None:
    print(f"\n4. cached re-verify of {count} unchanged skills")
    root = tmp / "cached"
    folders = make_synthetic(root, count)
    env = environment_fingerprint()
    now = utcnow()
    lock = Lock()
    for f in folders:  # what a previous passing `verify --apply` recorded
        lock.skills[f.name] = LockEntry(status="active", digest=skill_digest(f), path=f"skills/{f.name}",
                                        verified_at=now, expires_at=now + timedelta(days=30),
                                        checks={"runs": "pass"}, env=env, reason="1/1 checks passed")
    write_lock(root, lock)
    best = min(_timed(lambda: run_verify(root)) for _ in range(3))
    report = run_verify(root)
    assert all(v.outcome == "cached" for v in report.skills)
    cli = [str(Path(sys.executable).parent / "skillctl"), "verify", "--repo", str(root), "--json"]
    cli_best = min(_timed(lambda: subprocess.run(cli, capture_output=True, check=False)) for _ in range(3))
    print(f"   run_verify (in-process):   {best:5.2f} s  ({count / best:,.0f} skills/s)")
    print(f"   skillctl verify (CLI, incl. start-up): {cli_best:5.2f} s")
    print("   target <= 1 s")


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--checks", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds-many", type=int, default=7, help="rounds of part 2 (interleaved, median)")
    ap.add_argument("--cached", type=int, default=1000)
    ap.add_argument("--only-overhead", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    isolation, why = sandbox.available_isolation()
    print(f"sandbox: {isolation}{f' ({why})' if why else ''}; cpus: {os.cpu_count()}; "
          f"load average: {os.getloadavg()[0]:.1f}")
    if args.only_overhead:
        with tempfile.TemporaryDirectory(dir="/var/tmp" if os.path.isdir("/var/tmp") else None) as tmp:
            per_check_overhead(make_synthetic(Path(tmp) / "one", 1)[0], args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_synthetic(Path(tmp) / "one", 1)[0]
        per_check_overhead(folder, args.rounds)
        as_nobody(args.rounds)
        one_skill_many_checks(Path(tmp), args.checks, args.jobs, args.rounds_many)
        many_checks(Path(tmp), args.checks, args.jobs)
        cached(Path(tmp), args.cached)


def as_nobody(rounds: int) -> None:
    """Part 1 again as a normal user: root re-runs this script as ``nobody`` via setpriv."""
    system_py = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.access(p, os.X_OK)), None)
    if os.geteuid() != 0 or shutil.which("setpriv") is None or system_py is None:
        print("\n1b. non-root run skipped (not root, or no setpriv / system python)")
        return
    import sysconfig

    here = Path(__file__).resolve()
    path = f"{here.parents[1]}:{here.parent}:{sysconfig.get_paths()['purelib']}"
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "-i", "PATH=/usr/bin:/bin",
         "HOME=/var/tmp", f"PYTHONPATH={path}", system_py, str(here), "--only-overhead", "--rounds", str(rounds)],
        capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"\n1b. non-root run failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
        return
    print(proc.stdout.rstrip().replace("\n1. ", "\n1b. ", 1))


if __name__ == "__main__":
    main()
