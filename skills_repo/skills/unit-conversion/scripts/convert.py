#!/usr/bin/env python3
"""Convert quantities between units exactly, using the reviewed table in references/units.tsv.

  convert.py 1.5 GiB MB         -> 1.5 GiB = 1610.612736 MB
  convert.py 98.6 F C
  convert.py --list [DIMENSION]
Arithmetic uses fractions, so results are exact until the final rounding (max 12
significant digits). Temperatures are affine (offsets), handled separately from factors.
"""

from __future__ import annotations

import argparse
import csv
import sys
from fractions import Fraction
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "references" / "units.tsv"
ZERO_C = Fraction(27315, 100)  # 0 degrees Celsius in kelvin
TO_KELVIN = {
    "C": lambda v: v + ZERO_C,
    "F": lambda v: (v - 32) * Fraction(5, 9) + ZERO_C,
    "K": lambda v: v,
}
FROM_KELVIN = {
    "C": lambda k: k - ZERO_C,
    "F": lambda k: (k - ZERO_C) * Fraction(9, 5) + 32,
    "K": lambda k: k,
}


def load() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    units: dict[str, dict[str, str]] = {}
    aliases: dict[str, str] = {}
    with TABLE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            units[row["unit"]] = row
            aliases[row["unit"]] = row["unit"]
            for alias in filter(None, row["aliases"].split(",")):
                aliases.setdefault(alias, row["unit"])
    return units, aliases


def fmt(value: Fraction) -> str:
    """Exact when the decimal terminates within 12 significant digits, else rounded to 12."""
    text = f"{float(value):.12g}" if value.denominator != 1 else str(value.numerator)
    if "e" in text:
        return text
    return text.rstrip("0").rstrip(".") if "." in text else text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("args", nargs="*", help="VALUE FROM TO")
    parser.add_argument("--list", nargs="?", const="all", metavar="DIMENSION")
    ns = parser.parse_args()
    units, aliases = load()
    if ns.list:
        for unit, row in units.items():
            if ns.list in ("all", row["dimension"]):
                print(f"{unit:<4} {row['dimension']:<12} {row['note']}".rstrip())
        return 0
    if len(ns.args) != 3:
        parser.print_usage(sys.stderr)
        return 2
    raw, src, dst = ns.args
    try:
        value = Fraction(raw)
    except ValueError:
        print(f"convert: {raw!r} is not a number", file=sys.stderr)
        return 2
    for name in (src, dst):
        if name not in aliases:
            print(f"convert: unknown unit {name!r} (see --list)", file=sys.stderr)
            return 2
    a, b = units[aliases[src]], units[aliases[dst]]
    if a["dimension"] != b["dimension"]:
        print(f"convert: cannot convert {a['dimension']} ({a['unit']}) to {b['dimension']} ({b['unit']})",
              file=sys.stderr)
        return 2
    if a["dimension"] == "temperature":
        kelvin = TO_KELVIN[a["unit"]](value)
        if kelvin < 0:
            print("convert: below absolute zero", file=sys.stderr)
            return 2
        result = FROM_KELVIN[b["unit"]](kelvin)
    else:
        result = value * Fraction(a["factor"]) / Fraction(b["factor"])
    print(f"{raw} {a['unit']} = {fmt(result)} {b['unit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
