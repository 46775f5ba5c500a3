#!/usr/bin/env python3
"""Normalize a messy CSV export: snake_case headers, trimmed cells, no blank or duplicate rows.

Writes the cleaned CSV to stdout and a one-line summary to stderr, so it can sit in a pipe.
Standard library only, so it runs anywhere python3 does.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import unicodedata


def normalize_header(raw: str) -> str:
    """'  E-mail Address ' -> 'e_mail_address'; accents folded, punctuation becomes '_'."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text.strip().lower()).strip("_")
    return text or "column"


def unique_headers(headers: list[str]) -> list[str]:
    """Two columns must never collapse into one name: the second 'id' becomes 'id_2'."""
    seen: dict[str, int] = {}
    out = []
    for name in headers:
        base = normalize_header(name)
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def clean(rows: list[list[str]], keys: list[str]) -> tuple[list[str], list[list[str]], dict[str, int]]:
    header = unique_headers(rows[0]) if rows else []
    width = len(header)
    key_idx = []
    for key in keys:
        if key not in header:
            raise SystemExit(f"clean_csv: unknown key column {key!r}; columns are {', '.join(header)}")
        key_idx.append(header.index(key))
    stats = {"read": 0, "blank": 0, "duplicate": 0, "written": 0}
    seen: set[tuple[str, ...]] = set()
    out = []
    for row in rows[1:]:
        stats["read"] += 1
        cells = [" ".join(cell.split()) for cell in row]
        cells = (cells + [""] * width)[:width]
        if not any(cells):
            stats["blank"] += 1
            continue
        ident = tuple(cells[i].casefold() for i in key_idx) if key_idx else tuple(cells)
        if ident in seen:
            stats["duplicate"] += 1
            continue
        seen.add(ident)
        out.append(cells)
    stats["written"] = len(out)
    return header, out, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="CSV file to clean ('-' for stdin)")
    parser.add_argument("--key", action="append", default=[],
                        help="normalized column that identifies a row (repeatable); default: whole row")
    parser.add_argument("--delimiter", default=None, help="input delimiter (default: sniffed)")
    args = parser.parse_args()

    if args.path == "-":
        text = sys.stdin.read()
    else:
        with open(args.path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    text = text.removeprefix("\ufeff")  # Excel's UTF-8 BOM would otherwise glue onto header 1
    delimiter = args.delimiter
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    header, out, stats = clean(rows, args.key)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(out)
    print(f"read={stats['read']} blank={stats['blank']} duplicate={stats['duplicate']} "
          f"written={stats['written']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
