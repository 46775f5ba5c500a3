#!/usr/bin/env python3
"""Trim cells, lower-case headers and drop empty rows from a CSV file (prints to stdout)."""

import csv
import sys


def main(path: str) -> int:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [[cell.strip() for cell in row] for row in csv.reader(fh)]
    if not rows:
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([h.lower().replace(" ", "_") for h in rows[0]])
    writer.writerows(row for row in rows[1:] if any(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
