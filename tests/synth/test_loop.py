"""The closed loop through the CLI: synth -> verify -> sync -> outcomes -> schedule demotes -> sync removes."""

from __future__ import annotations

import json
from pathlib import Path

import git

from skillctl.lock import read_lock
from skillctl.synth.outcomes import list_outcomes
from tests.synth.test_synth import REAL, WORDFREQ

FAILING = [REAL / "claude-code" / "failing.jsonl", REAL / "codex" / "failing.jsonl",
           REAL / "hermes" / "failing.state.db", REAL / "hermes" / "failing.export.jsonl"]


def with_skill(cli, repo: Path) -> None:
    cfg = repo / "skillctl.yaml"
    cfg.write_text(cfg.read_text() + "\nsync:\n  targets: [claude]\n")
    g = git.Repo(repo)
    g.git.add("-A")
    g.git.commit("-m", "sync to claude")
    assert cli("--repo", str(repo), "synth", "--offline", "--name", "word-frequency", str(WORDFREQ["claude"])).code == 0
    assert cli("--repo", str(repo), "verify", "--apply").code == 0


def test_ingest_finds_skill_uses_in_every_agents_format(cli, repo):
    with_skill(cli, repo)
    r = cli("--repo", str(repo), "outcomes", "ingest", *map(str, FAILING))
    assert r.code == 0, r.err
    assert "4 session(s): recorded 3 new, 4 use(s)" in r.out  # Hermes' db and its export hold one session
    records = list_outcomes(repo, "word-frequency")
    assert {x.outcome for x in records} == {"failure"} and {x.source for x in records} == {"session"}
    again = cli("--repo", str(repo), "outcomes", "ingest", *map(str, FAILING))
    assert "recorded 0 new" in again.out  # idempotent
    ok = cli("--repo", str(repo), "outcomes", "ingest", str(WORDFREQ["codex"]))  # uses no skill
    assert "1 session(s): recorded 0 new, 0 use(s)" in ok.out


def test_ingest_ignores_unknown_skills_and_reports_bad_files(cli, repo, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    r = cli("--repo", str(repo), "outcomes", "ingest", str(FAILING[0]), str(bad))
    assert r.code == 2 and "ignored: word-frequency is not a skill of this repo" in r.out
    assert "bad.jsonl" in r.err and list_outcomes(repo) == []


def test_record_and_stats(cli, repo):
    with_skill(cli, repo)
    assert cli("--repo", str(repo), "record", "word-frequency", "--outcome", "success").code == 0
    r = cli("--repo", str(repo), "record", "word-frequency", "--outcome", "failure", "--note", "missed hyphens")
    assert r.code == 0 and "failure recorded" in r.out
    assert cli("--repo", str(repo), "record", "nope", "--outcome", "failure").code == 2
    assert cli("--repo", str(repo), "record", "word-frequency", "--outcome", "maybe").code == 2
    stats = json.loads(cli("--repo", str(repo), "stats", "--json").out)
    assert stats[0]["name"] == "word-frequency" and stats[0]["uses"] == 2 and stats[0]["success_rate"] == 0.5
    assert stats[0]["last_failure"]["note"] == "missed hyphens" and stats[0]["failing_by_policy"] is None
    assert "50%" in cli("--repo", str(repo), "stats").out
    assert cli("--repo", str(repo), "stats", "--window", "soon").code == 2


def test_failures_demote_and_the_next_sync_removes_it(cli, repo):
    with_skill(cli, repo)
    assert cli("--repo", str(repo), "sync", cwd=repo).code == 0  # project targets are under the cwd
    synced = repo / ".claude" / "skills" / "word-frequency"
    assert (synced / "SKILL.md").is_file()
    cli("--repo", str(repo), "record", "word-frequency", "--outcome", "success")
    cli("--repo", str(repo), "outcomes", "ingest", *map(str, FAILING[:3]))
    cli("--repo", str(repo), "record", "word-frequency", "--outcome", "failure", "--note", "counted '|' as a word")
    r = cli("--repo", str(repo), "schedule", "--once")
    assert "outcomes word-frequency active -> failing (outcomes: 1/5 uses succeeded (20%)" in r.out
    assert "sync claude (project): remove word-frequency" in r.out
    entry = read_lock(repo).skills["word-frequency"]
    assert entry.status == "failing" and "counted '|' as a word" in entry.reason
    assert not synced.exists()
    assert "word-frequency" not in cli("--repo", str(repo), "load").out
    assert "demoted by outcomes" in git.Repo(repo).head.commit.message


def test_fewer_uses_than_policy_do_not_demote(cli, repo):
    with_skill(cli, repo)
    cfg = repo / "skillctl.yaml"
    cfg.write_text(cfg.read_text() + "outcomes:\n  min_uses: 10\n")
    for _ in range(6):
        cli("--repo", str(repo), "record", "word-frequency", "--outcome", "failure")
    r = cli("--repo", str(repo), "schedule", "--once")
    assert "outcomes" not in r.out and read_lock(repo).skills["word-frequency"].status == "active"


def test_a_fixed_skill_starts_a_fresh_record(cli, repo):
    """Outcomes count against the digest they were recorded for: new content, new evidence."""
    with_skill(cli, repo)
    for _ in range(5):
        cli("--repo", str(repo), "record", "word-frequency", "--outcome", "failure")
    md = repo / "skills" / "word-frequency" / "SKILL.md"
    md.write_text(md.read_text().replace("# Find", "# Fixed: find"))
    assert cli("--repo", str(repo), "verify", "--apply").code == 0
    stats = json.loads(cli("--repo", str(repo), "stats", "--json").out)
    assert stats == []
    r = cli("--repo", str(repo), "schedule", "--once")
    assert read_lock(repo).skills["word-frequency"].status == "active", r.out


def test_readme_loop_runs_as_written(tmp_path):
    """The README's end-to-end loop, run by bash exactly as a user pastes it."""
    import os
    import re
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    text = (root / "README.md").read_text()
    m = re.search(r"<!-- snippet: loop -->\n```bash\n(.*?)```", text, re.S)
    assert m, "README.md has no loop snippet"
    script = m.group(1).replace("/tmp/loop", str(tmp_path / "loop"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "draft -> active" in out and "write         word-frequency" in out
    assert "3 session(s): recorded 3 new, 3 use(s)" in out
    assert "outcomes word-frequency active -> failing (outcomes: 1/5 uses succeeded (20%)" in out
    assert "sync claude (project): remove word-frequency" in out
    assert "no loadable skills" in out
    assert not (tmp_path / "loop" / ".claude" / "skills" / "word-frequency").exists()


def test_ingest_sees_hermes_skill_view(cli, repo):
    with_skill(cli, repo)
    r = cli("--repo", str(repo), "outcomes", "ingest", str(REAL / "hermes" / "skillview.state.db"))
    assert "word-frequency: failure (session 20261201_212530_a1e5bf" in r.out
    assert [x.note for x in list_outcomes(repo, "word-frequency")] == [
        "hermes-db session step 1: the final answer says the task failed"]
