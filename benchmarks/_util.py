"""Shared helpers for the benchmarks: timing and synthetic skill trees."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

CORPORA = Path(os.environ.get("SKILLCTL_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora"))

SYNTH_TEMPLATE = """---
name: {name}
description: Synthetic skill number {i} for benchmarking. Use when measuring skillctl throughput.
license: MIT
metadata:
  skillctl:
    version: 1.{minor}.0
    owner: bench
    ttl: 30d
    origin: synthesized
    trust: team
    pins:
      - datasource: pypi
        package: package-{i}
        version: 1.{minor}.0
---
# Synthetic {i}

Steps: read the input, transform it, write the output. Run `python scripts/run.py input.csv`.

## Verification
```bash {{check=runs timeout=10}}
echo ok-{i}
```
```output {{for=runs}}
ok-{i}
```
"""


def make_synthetic(root: Path, count: int) -> list[Path]:
    """*count* valid skill folders under root/skills (idempotent)."""
    folders = []
    for i in range(count):
        name = f"synthetic-skill-{i}"
        folder = root / "skills" / name
        if not (folder / "SKILL.md").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "SKILL.md").write_text(SYNTH_TEMPLATE.format(name=name, i=i, minor=i % 7))
        folders.append(folder)
    return folders


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of *repeat* runs: the least noisy estimate on a shared machine."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def median_of(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
