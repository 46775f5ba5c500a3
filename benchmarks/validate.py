"""Validation throughput and CLI start-up against the reference validator ``skills-ref``.

Run: ``.venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/validate.py``.
Both tools validate the same skills in the same process and run, so the printed ratios mean
something on a noisy machine. Targets (issue #3): in-process >= 5x faster than skills-ref;
``skillctl --version`` and validating one skill via the CLI no slower than ``agentskills``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
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
    ap.add_argument("--startup-only", action="store_true", help="Only the CLI start-up comparison.")
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

        if args.startup_only:
            folders = folders[n_corpus:n_corpus + 1] or folders[:1]
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

        def cpu_ms(cmd: tuple[str, ...], repeat: int = 15) -> float:
            """Median user+sys CPU of the child: steadier than wall time on a shared VM."""
            samples = []
            for _ in range(repeat):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                run(*cmd)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                samples.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
            return statistics.median(samples)

        print("CLI start-up (medians of 15 runs each, same skill):")
        for label, ours_cmd, ref_cmd in (
            ("--version", (skillctl, "--version"), (agentskills, "--version")),
            ("validate one skill", (skillctl, "validate", str(one)), (agentskills, "validate", str(one))),
        ):
            t_ours = median_of(lambda c=ours_cmd: run(*c), repeat=15)
            t_ref = median_of(lambda c=ref_cmd: run(*c), repeat=15)
            c_ours, c_ref = cpu_ms(ours_cmd), cpu_ms(ref_cmd)
            print(f"  {label:20s} wall: skillctl {t_ours * 1000:6.1f} ms, agentskills {t_ref * 1000:6.1f} ms, "
                  f"ratio {t_ours / t_ref:.2f}   cpu: {c_ours:6.1f} ms vs {c_ref:6.1f} ms, ratio {c_ours / c_ref:.2f}"
                  "  (target <= 1.0)")


if __name__ == "__main__":
    main()
