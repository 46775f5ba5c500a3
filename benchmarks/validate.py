"""Validation throughput and CLI start-up against the reference validator ``skills-ref``.

Run: ``.venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/validate.py``.
Both tools validate the same skills in the same process and run, so the printed ratios mean
something on a noisy machine. Targets (issue #3): in-process >= 5x faster than skills-ref;
``skillctl --version`` and validating one skill via the CLI no slower than ``agentskills``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import CORPORA, best_of, make_synthetic, median_of

from skillctl.repo import discover_skills
from skillctl.validate import validate_folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--synthetic", type=int, default=10_000)
    args = ap.parse_args()
    try:
        from skills_ref import validate as ref_validate
    except ImportError:
        sys.exit("skills-ref is not installed: pip install -e '.[bench]'")

    with tempfile.TemporaryDirectory() as tmp:
        folders = discover_skills(CORPORA) if CORPORA.is_dir() else []
        n_corpus = len(folders)
        folders += make_synthetic(Path(tmp), args.synthetic)
        print(f"skills: {len(folders)} ({n_corpus} from corpora, {args.synthetic} synthetic)")

        ours = best_of(lambda: [validate_folder(f) for f in folders], repeat=3)
        ref = best_of(lambda: [ref_validate(f) for f in folders], repeat=1)
        print(f"skillctl validate (in-process): {ours:.2f} s  ({len(folders) / ours:,.0f} skills/s)")
        print(f"skills-ref validate (baseline): {ref:.2f} s  ({len(folders) / ref:,.0f} skills/s)")
        print(f"ratio skills-ref / skillctl:    {ref / ours:.1f}x  (target >= 5x)")

        one = folders[n_corpus] if len(folders) > n_corpus else folders[0]
        skillctl = shutil.which("skillctl", path=str(Path(sys.executable).parent))
        agentskills = shutil.which("agentskills", path=str(Path(sys.executable).parent))
        if not (skillctl and agentskills):
            print("CLI start-up: skillctl/agentskills executables not found next to this python")
            return

        def run(*cmd: str) -> None:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

        print("CLI start-up (median of 9 runs each, same machine, same skill):")
        for label, ours_cmd, ref_cmd in (
            ("--version", (skillctl, "--version"), (agentskills, "--version")),
            ("validate one skill", (skillctl, "validate", str(one)), (agentskills, "validate", str(one))),
        ):
            t_ours = median_of(lambda c=ours_cmd: run(*c), repeat=9)
            t_ref = median_of(lambda c=ref_cmd: run(*c), repeat=9)
            print(f"  {label:20s} skillctl {t_ours * 1000:6.1f} ms   agentskills {t_ref * 1000:6.1f} ms   "
                  f"ratio {t_ours / t_ref:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()
