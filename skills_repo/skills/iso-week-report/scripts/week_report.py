#!/usr/bin/env python3
"""Count events per ISO-8601 week from a CSV with a date column, for weekly reports.

  week_report.py FILE.csv [--column date]
Prints one line per week, oldest first: week label, event count, Monday..Sunday range.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from datetime import date, timedelta


def iso_week(day: date) -> str:
    """ISO-8601 week label such as 2024-W19 (weeks start on Monday)."""
    return day.strftime("%Y-W%W")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--column", default="date")
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    mondays: dict[str, date] = {}
    with open(args.path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            day = date.fromisoformat(row[args.column].strip()[:10])
            label = iso_week(day)
            counts[label] += 1
            mondays[label] = day - timedelta(days=day.weekday())
    for label in sorted(counts):
        monday = mondays[label]
        print(f"{label}  {counts[label]:>3}  ({monday}..{monday + timedelta(days=6)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
