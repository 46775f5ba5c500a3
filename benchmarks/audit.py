"""Benchmark ``skillctl audit``: 1,000 pins across 300 skills against local fake registries.

    python benchmarks/audit.py [--latency-ms 20] [--jobs 32]

Builds a throwaway skills repo (300 skills, 1,000 pins: PyPI, npm, GitHub releases, Docker,
Helm), writes a registry document per package, serves them with ``fake_registry.py`` in a
separate process (so the server does not share the client's GIL) with a simulated round-trip
latency, then measures, in-process via ``skillctl.rot.audit.run_audit``:

- cold audit: empty cache, bounded concurrent pool (target <= 5 s);
- the named baseline: the same cold audit one request at a time (``jobs=1``), and the ratio;
- warm audit: every answer from the ``.skillctl/state.db`` cache (target <= 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKILLS, PINS = 300, 1000
MIX = (("pypi", 400), ("npm", 300), ("github-releases", 150), ("docker", 100), ("helm", 50))


def releases(rng: random.Random, n: int = 20) -> list[tuple[str, str]]:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out, major, minor = [], 1, 0
    for i in range(n):
        if rng.random() < 0.1:
            major, minor = major + 1, 0
        else:
            minor += 1
        when = start + timedelta(days=30 * i + rng.randint(0, 20))
        out.append((f"{major}.{minor}.{rng.randint(0, 5)}", when.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return out


def write_documents(reg: Path, pins: list[tuple[str, str, str]], rng: random.Random) -> None:
    charts = {}
    for ds, pkg, _ in pins:
        hist = releases(rng)
        if ds == "pypi":
            doc = {"info": {"name": pkg, "version": hist[-1][0]},
                   "releases": {v: [{"upload_time_iso_8601": t, "yanked": rng.random() < 0.02}] for v, t in hist}}
            path = reg / "pypi" / f"{pkg}.json"
        elif ds == "npm":
            doc = {"name": pkg, "dist-tags": {"latest": hist[-1][0]}, "versions": {v: {"version": v} for v, _ in hist},
                   "time": {v: t for v, t in hist}}
            path = reg / "npm" / f"{pkg.replace('/', '__')}.json"
        elif ds == "github-releases":
            doc = [{"tag_name": f"v{v}", "published_at": t, "draft": False, "prerelease": False}
                   for v, t in reversed(hist)]
            path = reg / "github-releases" / f"{pkg.replace('/', '__')}.json"
        elif ds == "docker":
            doc = {"name": pkg, "tags": [v for v, _ in hist] + ["latest"]}
            path = reg / "docker" / f"{pkg.replace('/', '__')}.json"
        else:
            charts[pkg.split("/")[1]] = [{"version": v, "created": t} for v, t in hist]
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
    (reg / "helm").mkdir(parents=True, exist_ok=True)
    (reg / "helm" / "index.yaml").write_text(json.dumps({"apiVersion": "v1", "entries": charts}))


def build(base: Path, seed: int = 1) -> tuple[Path, Path]:
    """A git-less skills repo with a lock, and the registry document folder."""
    from skillctl.lock import write_lock
    from skillctl.lockmodel import Lock, LockEntry

    rng = random.Random(seed)
    pins = []
    for ds, count in MIX:
        for i in range(count):
            pkg = {"pypi": f"pkg-{i}", "npm": f"@bench/pkg-{i}" if i % 5 == 0 else f"pkg-{i}",
                   "github-releases": f"org{i % 7}/repo-{i}", "docker": f"org{i % 3}/image-{i}",
                   "helm": f"bench/chart-{i}"}[ds]
            pins.append((ds, pkg, ""))
    reg = base / "registry"
    write_documents(reg, pins, rng)
    rng.shuffle(pins)
    root = base / "repo"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    lock = Lock()
    for s in range(SKILLS):
        mine = pins[s::SKILLS]
        name = f"skill-{s:03d}"
        folder = root / "skills" / name
        folder.mkdir(parents=True)
        body = "".join(f"      - datasource: {ds}\n        package: \"{pkg}\"\n"
                       f"        version: \"1.{rng.randint(0, 9)}.0\"\n" for ds, pkg, _ in mine)
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: Benchmark skill {s}. Use when benchmarking.\nmetadata:\n"
            f"  skillctl:\n    version: 1.0.0\n    ttl: 30d\n    pins:\n{body}---\n# {name}\n")
        lock.skills[name] = LockEntry(status="active", reason="1/1 checks passed", since=now, verified_at=now,
                                      expires_at=now + timedelta(days=30), path=f"skills/{name}")
    write_lock(root, lock)
    return root, reg


def start_registry(reg: Path, latency_ms: float) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen([sys.executable, str(HERE / "fake_registry.py"), "--port", "0",
                             "--latency-ms", str(latency_ms), str(reg)], stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    env = {}
    for _ in range(6):
        key, value = proc.stdout.readline().strip().removeprefix("export ").split("=", 1)
        env[key] = value
    return proc, env


def timed(root: Path, **kwargs) -> tuple[float, object]:
    from skillctl.rot.audit import run_audit

    start = time.perf_counter()
    report = run_audit(root, **kwargs)
    return time.perf_counter() - start, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0, help="simulated registry round trip")
    parser.add_argument("--jobs", type=int, default=16, help="concurrent requests (the audit default)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    base = Path(tempfile.mkdtemp(prefix="skillctl-bench-audit-"))
    try:
        root, reg = build(base)
        proc, env = start_registry(reg, args.latency_ms)
        os.environ.update(env)
        try:
            skills = sum(1 for _ in root.rglob("SKILL.md"))
            colds, warms = [], []
            for _ in range(2):
                shutil.rmtree(root / ".skillctl", ignore_errors=True)
                elapsed, report = timed(root, jobs=args.jobs)
                summary = report.to_json()["summary"]
                assert summary["pins"] == PINS and summary["unreachable"] == 0, summary
                colds.append(elapsed)
            for _ in range(5):
                elapsed, report = timed(root, jobs=args.jobs)
                assert report.to_json()["summary"]["from_cache"] == PINS
                warms.append(elapsed)
            shutil.rmtree(root / ".skillctl")
            sequential, _ = timed(root, jobs=1)
        finally:
            proc.kill()
            proc.wait()
        cold, warm = min(colds), min(warms)
        print(f"audit benchmark: {skills} skills, {PINS} pins, {len(list(reg.rglob('*.json'))) + 1} registry "
              f"documents, simulated latency {args.latency_ms:g} ms, load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        print(f"  cold audit, {args.jobs} concurrent requests: {cold:6.2f} s   best of {len(colds)} (target <= 5 s)")
        print(f"  baseline, one request at a time:         {sequential:6.2f} s   "
              f"(concurrent is {sequential / cold:.1f}x faster)")
        print(f"  warm audit, all answers from cache:      {warm:6.2f} s   best of {len(warms)}, median "
              f"{statistics.median(warms):.2f} s (target <= 0.5 s)")
        ok = cold <= 5 and warm <= 0.5
        print("  targets met" if ok else "  TARGET MISSED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
