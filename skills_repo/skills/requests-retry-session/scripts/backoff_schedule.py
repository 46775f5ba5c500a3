#!/usr/bin/env python3
"""Print the sleeps urllib3's Retry (1.26.x) makes between attempts, without the network.

  backoff_schedule.py BACKOFF_FACTOR TOTAL
urllib3 1.26 sleeps 0 before the first retry, then factor * 2**(n-1) seconds before retry n,
capped at Retry.BACKOFF_MAX (120 s). A Retry-After header on 413/429/503 replaces the sleep.
"""

from __future__ import annotations

import sys

BACKOFF_MAX = 120.0


def sleeps(factor: float, total: int) -> list[float]:
    return [0.0 if n == 1 else min(BACKOFF_MAX, factor * 2 ** (n - 1)) for n in range(1, total + 1)]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    factor, total = float(argv[0]), int(argv[1])
    schedule = sleeps(factor, total)
    for n, seconds in enumerate(schedule, start=1):
        print(f"retry {n}: sleep {seconds:g}s")
    print(f"worst case: {sum(schedule):g}s of sleeping over {total + 1} attempts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
