"""Scan throughput: all of the shared corpora plus 10,000 synthetic skills, against validate-only.

Run: ``.venv/bin/python benchmarks/scan.py [--synthetic N] [--hermes PATH/TO/skills_guard.py]``.
Target (issue #6): scanning adds at most 1x the validate time. Both are timed in the same
process on the same folders. "scan, parse shared" is what ``validate --scan`` and ``verify``
add (they already hold the parsed Skill); "standalone" adds discovery and parsing. The scan
reads *every* file of every skill while validate reads only SKILL.md, so the corpora, whose
references hold 10 MB of text, are reported apart from the synthetic skills.
With ``--hermes`` (Hermes Agent's ``tools/skills_guard.py``, not shipped here) the same skills
are also scanned by that baseline; see benchmarks/scan_eval.py for how to obtain it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import CORPORA, best_of, make_synthetic

from skillctl.parse import read_skill
from skillctl.policy import Policy
from skillctl.repo import discover_skills
from skillctl.scan import Scanner, scan_tree
from skillctl.scan.rules import load_rules
from skillctl.validate import validate_folder


def measure(label: str, folders: list[Path], scanner: Scanner, hermes=None) -> None:  # type: ignore[no-untyped-def]
    if not folders:
        return
    size = sum(p.stat().st_size for f in folders for p in f.rglob("*") if p.is_file())
    skills = [read_skill(f) for f in folders]
    validate = best_of(lambda: [validate_folder(f) for f in folders], repeat=3)
    added = best_of(lambda: [scanner.scan(s) for s in skills], repeat=3)
    full = best_of(lambda: scan_tree(folders, scanner=scanner), repeat=3)
    n = len(folders)

    def line(name: str, secs: float) -> str:
        return (f"  {name:<28}: {secs:6.2f} s  {n / secs:8,.0f} skills/s  {secs / n * 1000:6.2f} ms/skill"
                f"  {size / 1e6 / secs:5.1f} MB/s")

    print(f"{label}: {n} skills, {size / 1e6:.1f} MB")
    print(line("validate only", validate))
    print(line("scan, parse shared", added))
    print(line("scan incl. parse + discovery", full))
    print(f"  scan adds {added / validate:.2f}x the validate time when the parse is shared "
          f"({full / validate:.2f}x standalone); target <= 1x")
    if hermes is not None:
        base = best_of(lambda: [hermes.scan_skill(f, source="community") for f in folders], repeat=1)
        print(f"  {'Hermes skills_guard':<28}: {base:6.2f} s  {base / n * 1000:6.2f} ms/skill  "
              f"(skillctl standalone scan is {base / full:.1f}x faster)")


def load_hermes(path: str | None):  # type: ignore[no-untyped-def]
    if not path:
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("hermes_skills_guard", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--synthetic", type=int, default=10_000)
    ap.add_argument("--hermes", default=None, help="path to Hermes Agent's tools/skills_guard.py")
    args = ap.parse_args()
    hermes = load_hermes(args.hermes)
    scanner = Scanner(rules=load_rules(), policy=Policy(default_trust="team"))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = discover_skills(CORPORA) if CORPORA.is_dir() else []
        synthetic = make_synthetic(Path(tmp), args.synthetic)
        measure("corpora", corpus, scanner, hermes)
        measure("synthetic", synthetic, scanner, hermes)
        measure("all (one run)", corpus + synthetic, scanner, None)


if __name__ == "__main__":
    main()
