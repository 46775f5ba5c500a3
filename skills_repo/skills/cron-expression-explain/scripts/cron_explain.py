#!/usr/bin/env python3
"""Explain a 5-field cron expression and list its next run times, the way Vixie/cronie cron
evaluates it (including the day-of-month / day-of-week OR rule).

  cron_explain.py "EXPR" [--from YYYY-MM-DDTHH:MM] [--count N]
Times are naive wall-clock times in whatever zone the cron daemon uses; no DST handling.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
FIELDS = [  # name, low, high, names (index 0 == low)
    ("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
    ("month", 1, 12, MONTHS), ("day of week", 0, 7, DAYS),
]


class CronError(ValueError):
    pass


def parse_value(text: str, low: int, names: list[str] | None) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + low
    if not text.isdigit():
        raise CronError(f"{text!r} is not a number" + (f" or a name ({names[0]}..)" if names else ""))
    return int(text)


def parse_field(text: str, name: str, low: int, high: int, names: list[str] | None) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"{name}: bad step {step_text!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = parse_value(a, low, names), parse_value(b, low, names)
        else:
            start = parse_value(base, low, names)
            end = high if step else start  # "5/15" means 5-max/15
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{name}: {part!r} outside {low}-{high} or reversed")
        values.update(range(start, end + 1, step or 1))
    return values


def parse(expr: str) -> tuple[list[set[int]], bool, bool]:
    expr = MACROS.get(expr.strip().lower(), expr)
    parts = expr.split()
    if len(parts) != 5:
        raise CronError(f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}")
    sets = [parse_field(p, *spec) for p, spec in zip(parts, FIELDS, strict=True)]
    if 7 in sets[4]:
        sets[4] = (sets[4] - {7}) | {0}  # 7 is another name for Sunday
    # cron decides "unrestricted" by the first character: "*/2" still counts as a star.
    return sets, parts[2].startswith("*"), parts[4].startswith("*")


def compress(values: set[int], names: list[str] | None = None, low: int = 0) -> str:
    runs: list[list[int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])

    def label(v: int) -> str:
        return names[v - low].capitalize() if names else str(v)

    parts = []
    for a, b in runs:
        if a == b:
            parts.append(label(a))
        elif b == a + 1:
            parts += [label(a), label(b)]
        else:
            parts.append(f"{label(a)}-{label(b)}")
    return ",".join(parts)


def day_matches(day: datetime, sets: list[set[int]], dom_star: bool, dow_star: bool) -> bool:
    dom_ok = day.day in sets[2]
    dow_ok = (day.isoweekday() % 7) in sets[4]
    if dom_star or dow_star:
        return dom_ok and dow_ok
    return dom_ok or dow_ok  # both restricted: either one is enough


def next_runs(sets, dom_star, dow_star, after: datetime, count: int) -> list[datetime]:
    runs: list[datetime] = []
    day = after.replace(hour=0, minute=0)
    for _ in range(366 * 8):  # leap-day schedules need up to 8 years (e.g. 29 Feb on a Monday)
        if day.month in sets[3] and day_matches(day, sets, dom_star, dow_star):
            for hour in sorted(sets[1]):
                for minute in sorted(sets[0]):
                    when = day.replace(hour=hour, minute=minute)
                    if when > after:
                        runs.append(when)
                        if len(runs) == count:
                            return runs
        day += timedelta(days=1)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("expression")
    parser.add_argument("--from", dest="start", default=None, help="YYYY-MM-DDTHH:MM (default: now)")
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args()
    try:
        sets, dom_star, dow_star = parse(args.expression)
        now = datetime.now().replace(second=0, microsecond=0)
        start = datetime.strptime(args.start, "%Y-%m-%dT%H:%M") if args.start else now
    except (CronError, ValueError) as err:
        print(f"cron_explain: {err}", file=sys.stderr)
        return 2
    print(f"expression:   {args.expression}")
    print(f"minutes:      {'every minute' if len(sets[0]) == 60 else compress(sets[0])}")
    print(f"hours:        {'every hour' if len(sets[1]) == 24 else compress(sets[1])}")
    print(f"days:         {'any' if len(sets[2]) == 31 else compress(sets[2])}")
    print(f"months:       {'every month' if len(sets[3]) == 12 else compress(sets[3], MONTHS, 1)}")
    print(f"weekdays:     {'any' if len(sets[4]) == 7 else compress(sets[4], DAYS, 0)}")
    dom_limited, dow_limited = len(sets[2]) < 31, len(sets[4]) < 7
    if not dom_star and not dow_star:
        rule = "day-of-month OR day-of-week (both restricted)"
    elif dom_limited and dow_limited:
        rule = "day-of-month AND day-of-week (a field starting with '*' disables the OR rule)"
    elif dom_limited or dow_limited:
        rule = "day-of-month only" if dom_limited else "day-of-week only"
    else:
        rule = "every day"
    print(f"day rule:     {rule}")
    runs = next_runs(sets, dom_star, dow_star, start, args.count)
    print(f"next {len(runs)} run(s) after {start:%Y-%m-%d %H:%M %a}:")
    for when in runs:
        print(f"  {when:%Y-%m-%d %H:%M %a}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
