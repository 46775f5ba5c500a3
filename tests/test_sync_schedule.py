"""``schedule`` ends with ``sync``: a demotion leaves every configured agent folder in the same pass."""

from __future__ import annotations

import json
from pathlib import Path

from test_schedule import rotten_skill


def test_schedule_pass_removes_the_demoted_skill_from_agent_folders(cli, repo: Path, httpserver, tmp_path):
    rotten_skill(repo, httpserver)
    target = tmp_path / "agent-skills"
    config = repo / "skillctl.yaml"
    config.write_text(config.read_text() + f"sync:\n  targets:\n    - path: {target}\n")
    assert cli("sync", "--repo", str(repo)).code == 0
    assert {p.name for p in target.iterdir() if not p.name.startswith(".")} == {"demo-skill", "rotten"}

    res = cli("schedule", "--once", "--repo", str(repo))
    assert "audit rotten: active -> stale" in res.out
    assert f"sync {target}: remove rotten" in res.out
    assert {p.name for p in target.iterdir() if not p.name.startswith(".")} == {"demo-skill"}

    again = cli("schedule", "--once", "--repo", str(repo), "--json")
    assert json.loads(again.out)["sync"]["targets"][0]["kept"] == 1


def test_schedule_without_sync_targets_reports_no_sync(cli, repo: Path):
    res = cli("schedule", "--once", "--repo", str(repo), "--json")
    assert json.loads(res.out)["sync"] is None


def test_a_sync_that_cannot_run_does_not_hide_the_pass(cli, repo: Path, tmp_path, monkeypatch):
    home = tmp_path / "h"
    monkeypatch.setenv("HOME", str(home))
    config = repo / "skillctl.yaml"  # Codex reads both folders: refused before anything is written
    config.write_text(config.read_text() + "sync:\n  targets:\n    - codex\n    - {name: codex, scope: global}\n")
    res = cli("schedule", "--once", "--repo", str(repo))
    assert res.code == 2 and "sync failed" in res.out and "codex reads both" in res.out
    assert "verify demo-skill: passed" in res.out  # the pass itself was recorded
    assert not (home / ".agents").exists()
