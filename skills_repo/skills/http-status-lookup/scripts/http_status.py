#!/usr/bin/env python3
"""Look up HTTP status codes in references/http-status.tsv: reason, whether to retry, advice.

  http_status.py 429 503       explain codes
  http_status.py --class 4xx   list a class
  http_status.py --retryable   list codes a client may retry automatically
The table lives next to the script's skill so it can be reviewed and corrected as data.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "references" / "http-status.tsv"
CLASSES = {"1": "informational", "2": "success", "3": "redirection", "4": "client error", "5": "server error"}


def load() -> dict[int, dict[str, str]]:
    with TABLE.open(encoding="utf-8", newline="") as fh:
        return {int(row["code"]): row for row in csv.DictReader(fh, delimiter="\t")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("codes", nargs="*", help="status codes to explain")
    parser.add_argument("--class", dest="klass", help="list a class: 1xx..5xx")
    parser.add_argument("--retryable", action="store_true", help="list retryable codes")
    args = parser.parse_args()
    table = load()
    status = 0
    if args.klass:
        digit = args.klass[0]
        for code, row in table.items():
            if str(code)[0] == digit:
                print(f"{code} {row['reason']}")
    if args.retryable:
        print(" ".join(str(code) for code, row in table.items() if row["retry"] == "yes"))
    for raw in args.codes:
        if not raw.isdigit() or not 100 <= int(raw) <= 599:
            print(f"{raw}: not an HTTP status code (100-599)")
            status = 1
            continue
        code = int(raw)
        klass = CLASSES[raw[0]]
        row = table.get(code)
        if row is None:
            print(f"{code}: unlisted {klass} code; treat it like {raw[0]}00")
            continue
        print(f"{code} {row['reason']} ({klass}; retry: {row['retry']})")
        print(f"    {row['meaning and what to do']}")
    if not (args.codes or args.klass or args.retryable):
        parser.print_usage(sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
