"""The released agents are told exactly the loadable skills after ``sync``, and stop being told
about a skill once ``schedule --once`` demoted it.

Each test runs the real program (Claude Code, Codex CLI, Hermes Agent) headless against the
fake model on 127.0.0.1 and reads the skill list from the request the agent sent, in the
agent's own words. Claude Code and Codex bring built-in skills of their own, so their list is
compared with a run that had no synced skills: exactly the loadable skills must be added.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import make_skill, skill_text

from skillctl.lock import skill_digest, write_lock
from skillctl.lockmodel import Lock, LockEntry
from tests.agents import run
from tests.agents.fakemodel import FakeModel

FIXTURES = Path(__file__).resolve().parents[2] / "skills_repo" / "registry-snapshot"
LOADABLE = {"demo-skill", "rotten"}
QUARANTINED = "csv-c1ean"


@pytest.fixture
def world(repo: Path, httpserver, tmp_path, monkeypatch):
    """A skills repo (two active skills, one of them about to rot, one quarantined), a HOME and a project."""
    httpserver.expect_request("/pypi/urllib3/json").respond_with_data((FIXTURES / "pypi/urllib3.json").read_text())
    pinned = textwrap.dedent("""\
        metadata:
          skillctl:
            version: 1.0.0
            ttl: 30d
            pins:
              - datasource: pypi
                package: urllib3
                version: 1.26.5
        """)
    rotten = make_skill(repo, "rotten", skill_text("rotten", lifecycle=pinned,
                                                   description="Use when retrying HTTP calls with urllib3."))
    bad = make_skill(repo, QUARANTINED, skill_text(QUARANTINED, description="Use when cleaning CSV files."))
    now = datetime.now(timezone.utc).replace(microsecond=0)

    def active(folder: Path) -> LockEntry:
        return LockEntry(status="active", digest=skill_digest(folder), path=f"skills/{folder.name}", since=now,
                         verified_at=now, expires_at=now.replace(year=now.year + 1), reason="1/1 checks passed")

    write_lock(repo, Lock(skills={
        "demo-skill": active(repo / "skills/demo-skill"), "rotten": active(rotten),
        QUARANTINED: LockEntry(status="quarantined", digest=skill_digest(bad), path=f"skills/{QUARANTINED}",
                               reason="blocking finding EXFIL-001", findings=["EXFIL-001"])}))
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HERMES_HOME", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    return {"repo": repo, "home": home, "project": project, "registry": httpserver.url_for("")}


def configure(world: dict, target: str) -> None:
    (world["repo"] / "skillctl.yaml").write_text(
        f"registries:\n  pypi: {world['registry']}\nsync:\n  targets:\n    - {target}\n")


def demote_with_schedule(cli, world: dict) -> None:
    res = cli("schedule", "--once", "--repo", str(world["repo"]))
    assert "audit rotten: active -> stale" in res.out, res.out + res.err
    assert "remove rotten" in res.out


def test_claude_code_is_told_exactly_the_loadable_skills(agent, world, cli):
    claude = agent("claude")
    with FakeModel() as fm:
        builtin = run.claude_skills(run.run_claude(claude, fm, world["home"], world["project"]).requests)
        assert builtin is not None, "Claude Code sent no skill list (its wording may have changed)"
        configure(world, f"{{path: {world['project'] / '.claude/skills'}}}")
        assert cli("sync", "--repo", str(world["repo"])).code == 0
        after = run.run_claude(claude, fm, world["home"], world["project"])
        assert after.returncode == 0, after.stderr
        assert run.claude_skills(after.requests) == builtin | LOADABLE
        assert run.sees_none(after.requests, {QUARANTINED})

        demote_with_schedule(cli, world)
        demoted = run.run_claude(claude, fm, world["home"], world["project"])
        assert run.claude_skills(demoted.requests) == builtin | {"demo-skill"}
        assert run.sees_none(demoted.requests, {"rotten", QUARANTINED})


def test_codex_is_told_exactly_the_loadable_skills(agent, world, cli):
    codex = agent("codex")
    with FakeModel() as fm:
        builtin = run.codex_skills(run.run_codex(codex, fm, world["home"], world["project"]).requests) or set()
        configure(world, f"{{path: {world['project'] / '.agents/skills'}}}")
        assert cli("sync", "--repo", str(world["repo"])).code == 0
        after = run.run_codex(codex, fm, world["home"], world["project"])
        assert after.returncode == 0, after.stderr
        assert run.codex_skills(after.requests) == builtin | LOADABLE
        assert run.sees_none(after.requests, {QUARANTINED})

        demote_with_schedule(cli, world)
        demoted = run.run_codex(codex, fm, world["home"], world["project"])
        assert run.codex_skills(demoted.requests) == builtin | {"demo-skill"}
        assert run.sees_none(demoted.requests, {"rotten", QUARANTINED})


@pytest.mark.parametrize("external", [False, True], ids=["hermes-skills", "external-dirs"])
def test_hermes_is_told_exactly_the_loadable_skills(agent, world, cli, external):
    hermes = agent("hermes")
    configure(world, "{name: hermes, external: true}" if external else "{name: hermes, scope: global}")
    with FakeModel() as fm:
        assert cli("sync", "--repo", str(world["repo"])).code == 0
        after = run.run_hermes(hermes, fm, world["home"], world["project"])
        assert after.returncode == 0, after.stderr
        assert run.hermes_skills(after.requests) == LOADABLE
        assert run.sees_none(after.requests, {QUARANTINED})

        demote_with_schedule(cli, world)
        demoted = run.run_hermes(hermes, fm, world["home"], world["project"])
        assert run.hermes_skills(demoted.requests) == {"demo-skill"}
        assert run.sees_none(demoted.requests, {"rotten", QUARANTINED})
