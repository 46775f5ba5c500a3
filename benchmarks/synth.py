"""Benchmark the closed loop's readers: synth on big sessions, outcomes ingest on many.

    python benchmarks/synth.py [--big-mb 200] [--mid-mb 10] [--sessions 1000] [--repeat 3]

Generates Claude Code project JSONL sessions shaped like the recorded fixture
(``tests/fixtures/sessions/real/claude-code/wordfreq.jsonl``: a prompt, Bash tool_use lines,
tool_result lines with ``toolUseResult``, one failed and corrected command, a final answer), in a
temporary folder (never committed), and measures against a named baseline measured in the same
run — a pass that only ``json.loads`` every line of the same files (the least any reader must do):

- ``synth --offline`` (dry run: read, redact, draft, validate --strict, scan) on a --mid-mb
  session; target <= 2 s;
- the same on a --big-mb session in a subprocess, with its peak RSS (ru_maxrss); targets
  <= 30 s and <= 200 MB;
- ``outcomes ingest`` over --sessions small sessions that each use a skill; target <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _util import best_of  # noqa: E402

SID = "0b5e55ed-0000-4000-8000-0000000be7c4"


def _line(kind: str, n: int, *, message: dict, sid: str = SID, **extra: object) -> str:
    return json.dumps({"type": kind, "uuid": f"u{n}", "parentUuid": f"u{n - 1}", "sessionId": sid, "cwd": "/w",
                       "isSidechain": False, "timestamp": "2026-12-01T10:00:00Z", "message": message, **extra}) + "\n"


def write_session(path: Path, size_mb: float, output_kb: int = 100, skill: str | None = None) -> int:
    """A tool-heavy Claude Code session of about *size_mb* MB; returns its tool-call count."""
    sid = f"{SID[:-8]}{abs(hash(path.name)) % 10**8:08d}"
    target = int(size_mb * 1024 * 1024)
    out_line = ("log line with some words and numbers 12345 " * 40)[:120]
    output = "\n".join([out_line] * max(1, output_kb * 1024 // 121))
    n = calls = 0
    with open(path, "w") as fh:
        n += 1
        prompt = "Build the report and check its totals."
        fh.write(_line("user", n, sid=sid, message={"role": "user", "content": prompt}))
        if skill:
            n += 1
            fh.write(_line("assistant", n, sid=sid, message={"id": "m0", "role": "assistant", "content": [
                {"type": "tool_use", "id": "t-skill", "name": "Skill", "input": {"skill": skill}}]}))
            n += 1
            fh.write(_line("user", n, sid=sid, message={"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t-skill", "content": f"Launching skill: {skill}"}]}))
        written = 0
        while written < target or calls < 6:
            calls += 1
            cmd = "make report" if calls != 3 else "make repot"
            n += 1
            fh.write(_line("assistant", n, sid=sid, message={"id": f"m{calls}", "role": "assistant", "content": [
                {"type": "tool_use", "id": f"t{calls}", "name": "Bash",
                 "input": {"command": f"{cmd} --part {calls}", "description": "build"}}]}))
            failed = calls == 3
            body = "Exit code 2\nmake: *** No rule to make target 'repot'." if failed else output
            n += 1
            line = _line("user", n, sid=sid, message={"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": f"t{calls}", "content": body, "is_error": failed}]},
                toolUseResult=body if failed else {"stdout": body, "stderr": "", "interrupted": False})
            fh.write(line)
            written += len(line)
        n += 1
        fh.write(_line("assistant", n, sid=sid, message={"id": "m-check", "role": "assistant", "content": [
            {"type": "tool_use", "id": "t-check", "name": "Bash",
             "input": {"command": "printf 'total 3\\n'", "description": "check the total"}}]}))
        n += 1
        fh.write(_line("user", n, sid=sid, message={"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t-check", "content": "total 3", "is_error": False}]}))
        n += 1
        fh.write(_line("assistant", n, sid=sid, message={"id": "m-end", "role": "assistant", "content": [
            {"type": "text", "text": "The report is built; total 3."}]}))
    return calls + 1


def json_pass(paths: list[Path]) -> int:
    """The baseline: parse every line of every file, keep nothing."""
    count = 0
    for path in paths:
        with open(path, "rb") as fh:
            for raw in fh:
                json.loads(raw)
                count += 1
    return count


def make_repo(root: Path, skill: str) -> None:
    from skillctl.init import init_repo
    from skillctl.lock import lock_transaction
    from skillctl.lockmodel import LockEntry

    init_repo(root)
    folder = root / "skills" / skill
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {skill}\ndescription: Use when benchmarking.\n---\n# x\n")
    with lock_transaction(root) as lock:
        lock.skills[skill] = LockEntry(status="active", path=f"skills/{skill}", digest="sha256:0")


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
if sys.argv[1] == "synth":
    from skillctl.synth.synthesize import synthesize
    r = synthesize({repo!r}, [{path!r}], offline=True, dry_run=True, name="build-report")
    status = r[0].status
else:
    sys.path.insert(0, {here!r})
    from synth import json_pass
    from pathlib import Path
    status = json_pass([Path({path!r})])
print(json.dumps({{"s": time.perf_counter() - t0, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "status": status}}))
"""


def child(kind: str, repo: Path, path: Path) -> dict:
    code = CHILD.format(root=str(HERE.parent), repo=str(repo), path=str(path), here=str(HERE))
    proc = subprocess.run([sys.executable, "-c", code, kind], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big-mb", type=float, default=200)
    ap.add_argument("--mid-mb", type=float, default=10)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    from skillctl.synth.outcomes import ingest
    from skillctl.synth.synthesize import synthesize

    with tempfile.TemporaryDirectory(prefix="skillctl-bench-synth-") as tmp:
        base = Path(tmp)
        repo = base / "repo"
        make_repo(repo, "build-report-skill")

        mid = base / "mid.jsonl"
        calls = write_session(mid, args.mid_mb, output_kb=5)
        size = mid.stat().st_size / 1e6
        results = synthesize(repo, [mid], offline=True, dry_run=True, name="build-report")
        assert results[0].status == "dry-run", results[0]
        t_synth = best_of(lambda: synthesize(repo, [mid], offline=True, dry_run=True, name="build-report"),
                          args.repeat)
        t_json = best_of(lambda: json_pass([mid]), args.repeat)
        print(f"synth --offline, {size:.1f} MB session ({calls} tool calls): {t_synth:.2f} s "
              f"(target <= 2 s) | json.loads-only pass {t_json:.2f} s | ratio {t_synth / t_json:.2f}x")

        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "skillctl", "--repo", str(repo), "synth", "--offline", "--dry-run",
                               "--name", "build-report", str(mid)], capture_output=True, text=True, timeout=300)
        t_cli = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr
        print(f"skillctl synth --offline --dry-run, same session, as a user runs it (new process, rule packs "
              f"loaded): {t_cli:.2f} s (target <= 2 s) | ratio {t_cli / t_json:.1f}x the json.loads pass")

        big = base / "big.jsonl"
        calls = write_session(big, args.big_mb, output_kb=100)
        size = big.stat().st_size / 1e6
        s = child("synth", repo, big)
        b = child("json", repo, big)
        print(f"synth --offline, {size:.0f} MB session ({calls} tool calls), subprocess: {s['s']:.1f} s, "
              f"peak RSS {s['rss_mb']:.0f} MB (targets <= 30 s, <= 200 MB) | json.loads-only pass {b['s']:.1f} s, "
              f"{b['rss_mb']:.0f} MB | ratio {s['s'] / b['s']:.2f}x time, status {s['status']}")
        big.unlink()

        many = base / "many"
        many.mkdir()
        paths = []
        for i in range(args.sessions):
            p = many / f"s{i:05d}.jsonl"
            write_session(p, 0.004, output_kb=1, skill="build-report-skill")
            paths.append(p)
        total = sum(p.stat().st_size for p in paths) / 1e6
        t0 = time.perf_counter()
        report = ingest(repo, paths)
        t_ingest = time.perf_counter() - t0
        assert report.added == args.sessions, report.added
        t_base = best_of(lambda: json_pass(paths), args.repeat)
        print(f"outcomes ingest, {args.sessions} sessions ({total:.1f} MB), first run incl. recording: "
              f"{t_ingest:.2f} s (target <= 10 s) | json.loads-only pass {t_base:.2f} s | "
              f"ratio {t_ingest / t_base:.2f}x")
        t0 = time.perf_counter()
        again = ingest(repo, paths)
        print(f"outcomes ingest again (all already recorded): {time.perf_counter() - t0:.2f} s, "
              f"{again.added} new")
    print(f"(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
