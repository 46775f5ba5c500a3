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
