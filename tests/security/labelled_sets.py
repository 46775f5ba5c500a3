"""Labelled skill sets kept as YAML (one file per set and label), materialized into folders.

Keeping a set in one reviewable file makes its provenance plain (which set was tuned on and
which was not, see ``labelled/README.md``); tests and ``benchmarks/scan_eval.py`` write the
cases into a temporary directory and scan them as ordinary skill folders.
"""

from __future__ import annotations

from pathlib import Path

import yaml

LABELLED = Path(__file__).resolve().parent / "labelled"
SETS = ("dev", "holdout")


def materialize(set_name: str, label: str, dest: Path) -> list[Path]:
    """Write every case of ``labelled/<set>-<label>.yaml`` under *dest*; return the skill folders."""
    data = yaml.safe_load((LABELLED / f"{set_name}-{label}.yaml").read_text(encoding="utf-8"))
    folders = []
    for case in data["cases"]:
        folder = dest / set_name / label / case["name"]
        for rel, text in case["files"].items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        folders.append(folder)
    return folders
