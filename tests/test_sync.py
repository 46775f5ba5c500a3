"""``skillctl sync``: agent folders hold exactly the loadable skills, and nothing else is touched."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from conftest import forks_alone, tree_snapshot
from deliverkit import set_status, verified_repo, write_skill
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillctl.deliver.manifest import MANIFEST_NAME
from skillctl.deliver.sync import describes_when, run_sync
from skillctl.deliver.targets import Target

NAMES = ["alpha-skill", "beta-skill", "gamma-skill"]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HERMES_HOME", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    repo = verified_repo(tmp_path / "repo", NAMES, status={"gamma-skill": "quarantined"})
    project = tmp_path / "project"
    project.mkdir()
    return repo, project, home


def listed(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def test_sync_writes_loadable_keeps_then_removes_demoted(setup, cli):
    repo, project, _ = setup
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 0, r.out + r.err
    target = project / ".claude/skills"
    assert listed(target) == {"alpha-skill", "beta-skill"}  # the quarantined one is not delivered
    assert (target / "alpha-skill/SKILL.md").read_bytes() == (repo / "skills/alpha-skill/SKILL.md").read_bytes()
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    assert set(manifest["skills"]) == {"alpha-skill", "beta-skill"}

    again = cli("sync", "claude", "--repo", str(repo), "--project", str(project), "--json")
    data = json.loads(again.out)
    assert again.code == 0 and data["targets"][0]["kept"] == 2 and data["targets"][0]["actions"] == []

    set_status(repo, "beta-skill", "failing")
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 0 and "remove" in r.out and "beta-skill" in r.out
    assert listed(target) == {"alpha-skill"}


def test_dry_run_prints_the_plan_and_writes_nothing(setup, cli):
    repo, project, _ = setup
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project), "--dry-run")
    assert r.code == 0 and "would write" in r.out and "alpha-skill" in r.out
    assert not (project / ".claude").exists()


def test_folder_skillctl_did_not_create_is_never_touched(setup, cli):
    repo, project, _ = setup
    mine = write_skill(project / ".claude/skills/alpha-skill", "alpha-skill", body="the user's own version\n")
    before = tree_snapshot(mine)
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 1 and "did not create" in r.out
    assert tree_snapshot(mine) == before
    assert (project / ".claude/skills/beta-skill/SKILL.md").is_file()  # the rest still synced


def test_edited_copy_is_not_removed_on_demotion(setup, cli):
    repo, project, _ = setup
    cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    edited = project / ".claude/skills/beta-skill/SKILL.md"
    edited.write_text(edited.read_text() + "my local tweak\n")
    set_status(repo, "beta-skill", "stale")
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 1 and "edited since" in r.out
    assert "my local tweak" in edited.read_text()


def test_corrupt_manifest_refuses_the_target(setup, cli):
    repo, project, _ = setup
    cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    target = project / ".claude/skills"
    (target / MANIFEST_NAME).write_text("{not json")
    set_status(repo, "alpha-skill", "failing")
    before = tree_snapshot(target)
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 2 and "SC062" in r.out
    assert tree_snapshot(target) == before


def test_hand_edited_manifest_cannot_make_sync_delete_a_user_folder(setup, cli):
    repo, project, _ = setup
    cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    target = project / ".claude/skills"
    users = write_skill(target / "users-own", "users-own")
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    manifest["skills"]["users-own"] = {"digest": "sha256:" + "0" * 64, "mode": "copy", "source": "", "stamp": ""}
    manifest["skills"]["../../escape"] = {"digest": "x", "mode": "copy"}
    (target / MANIFEST_NAME).write_text(json.dumps(manifest))
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 1 and "not removed" in r.out and "not a plain folder name" in r.out
    assert (users / "SKILL.md").is_file()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=3),
                    max_leaves=12))
def test_fuzzed_manifest_never_deletes_or_crashes(setup, data):
    repo, project, _ = setup
    target = project / "fuzz"
    target.mkdir(exist_ok=True)
    write_skill(target / "users-own", "users-own")
    doc = {"version": 1, "skills": {"users-own": data, "alpha-skill": data}} if isinstance(data, dict) else data
    (target / MANIFEST_NAME).write_text(json.dumps(doc))
    report = run_sync(repo, [Target("fuzz", target)], project=project)
    assert (target / "users-own/SKILL.md").is_file()
    assert report.exit_code in (0, 1, 2)


def test_bad_targets_are_refused_with_exit_2(setup, cli, tmp_path):
    repo, project, _ = setup
    a_file = tmp_path / "file"
    a_file.write_text("x")
    r = cli("sync", "--target", str(a_file), "--repo", str(repo))
    assert r.code == 2 and "not a directory" in r.out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    r = cli("sync", "--target", str(link), "--repo", str(repo))
    assert r.code == 2 and "symlink" in r.out and list(elsewhere.iterdir()) == []
    r = cli("sync", "--repo", str(repo), "--project", str(project))
    assert r.code == 2 and "no sync targets" in r.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_target(setup, cli, tmp_path):
    repo, _, _ = setup
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = cli("sync", "--target", str(ro), "--repo", str(repo))
        assert r.code == 2 and "not writable" in r.out
    finally:
        ro.chmod(0o700)


def test_two_skills_claiming_one_folder_name(tmp_path, cli):
    """Names one filesystem or reader could confuse: the loader refuses the look-alike, and
    should two ever both be loadable, sync writes neither."""
    from skillctl.deliver.sync import desired_skills
    from skillctl.loader import load_skills

    repo = verified_repo(tmp_path / "repo", ["dup-skill", "Dup-Skill"])
    r = cli("sync", "--target", str(tmp_path / "t"), "--repo", str(repo))
    assert r.code == 0 and listed(tmp_path / "t") == {"dup-skill"}
    (only,) = load_skills(repo)
    twins = [only, type(only)(**{**only.__dict__, "name": "Dup-Skill"})]
    want, refused, _ = desired_skills(twins)
    assert want == {} and {a.name for a in refused} == {"dup-skill", "Dup-Skill"}
    assert all("claimed by several skills" in a.reason for a in refused)


def test_one_agent_never_reads_a_skill_from_two_roots(setup, cli):
    repo, project, home = setup
    r = cli("sync", "codex", "--repo", str(repo), "--project", str(project), "--target", str(home / ".agents/skills"))
    assert r.code == 2 and "codex reads both" in r.err
    assert not (home / ".agents").exists() and not (project / ".agents").exists()


def test_link_mode_links_and_unlinks(setup, cli):
    repo, project, _ = setup
    r = cli("sync", "codex", "--link", "--repo", str(repo), "--project", str(project))
    assert r.code == 0
    link = project / ".agents/skills/alpha-skill"
    assert link.is_symlink() and link.resolve() == (repo / "skills/alpha-skill").resolve()
    set_status(repo, "alpha-skill", "retired")
    assert cli("sync", "codex", "--link", "--repo", str(repo), "--project", str(project)).code == 0
    assert not link.exists() and not link.is_symlink()
    assert (repo / "skills/alpha-skill/SKILL.md").is_file()  # unlinking never reaches the repo


def test_global_scope_and_config_targets(setup, cli):
    repo, project, home = setup
    (repo / "skillctl.yaml").write_text("sync:\n  targets:\n    - claude\n    - {name: codex, scope: global}\n"
                                        "    - {path: out/skills}\n")
    r = cli("sync", "--repo", str(repo), "--project", str(project))
    assert r.code == 0, r.out + r.err
    for folder in (project / ".claude/skills", home / ".agents/skills", repo / "out/skills"):
        assert listed(folder) == {"alpha-skill", "beta-skill"}


def test_bad_sync_config_is_exit_2(setup, cli):
    repo, project, _ = setup
    (repo / "skillctl.yaml").write_text("sync:\n  targets:\n    - nosuchagent\n")
    r = cli("sync", "--repo", str(repo), "--project", str(project))
    assert r.code == 2 and "SC012" in r.err and "nosuchagent" in r.err


def test_hermes_external_dirs_keeps_the_users_config(setup, cli):
    repo, _, home = setup
    hermes = home / ".hermes"
    hermes.mkdir()
    (hermes / "config.yaml").write_text("model:\n  default: my-model\nskills:\n  external_dirs:\n    - /opt/team\n"
                                        "  other: 1\ntheme: dark\n")
    write_skill(hermes / "skills/mine/beta-skill", "beta-skill")
    r = cli("sync", "hermes", "--hermes-external", "--repo", str(repo))
    assert r.code == 0, r.out + r.err
    data = yaml.safe_load((hermes / "config.yaml").read_text())
    managed = hermes / "skillctl-skills"
    assert data["model"] == {"default": "my-model"} and data["theme"] == "dark" and data["skills"]["other"] == 1
    assert data["skills"]["external_dirs"] == ["/opt/team", str(managed)]
    assert listed(managed) == {"alpha-skill", "beta-skill"}
    assert "drops the managed one" in r.out  # Hermes prefers its local beta-skill
    before = (hermes / "config.yaml").read_bytes()
    assert cli("sync", "hermes", "--hermes-external", "--repo", str(repo)).code == 0
    assert (hermes / "config.yaml").read_bytes() == before


def test_hermes_config_that_is_not_a_mapping_is_left_alone(setup, cli):
    repo, _, home = setup
    (home / ".hermes").mkdir()
    (home / ".hermes/config.yaml").write_text("- just\n- a list\n")
    r = cli("sync", "hermes", "--hermes-external", "--repo", str(repo))
    assert r.code == 2 and "SC064" in r.out
    assert (home / ".hermes/config.yaml").read_text() == "- just\n- a list\n"


def test_descriptions_hermes_cuts_short_are_warned_about(tmp_path, cli, monkeypatch):
    assert describes_when("Use when a PDF needs its tables extracted")
    assert not describes_when("Extract tables from PDF files into CSV with pdfplumber. Use when asked.")
    repo = verified_repo(tmp_path / "repo", ["alpha-skill"])
    (repo / "skills/alpha-skill/SKILL.md").write_text(
        "---\nname: alpha-skill\ndescription: A thing that does a great many things with many words first\n---\n")
    from skillctl.lock import read_lock, skill_digest, write_lock

    lock = read_lock(repo)
    lock.skills["alpha-skill"].digest = skill_digest(repo / "skills/alpha-skill")
    write_lock(repo, lock)
    r = cli("sync", "--target", str(tmp_path / "t"), "--repo", str(repo))
    assert r.code == 0 and "do not say when" not in r.err  # only Hermes cuts descriptions at 60
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    r = cli("sync", "hermes", "--repo", str(repo))
    assert r.code == 0 and "do not say when to use it" in r.err


def test_update_when_verified_content_changes(setup, cli):
    repo, project, _ = setup
    cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    skill_md = repo / "skills/alpha-skill/SKILL.md"
    skill_md.write_text(skill_md.read_text() + "v2\n")
    from skillctl.lock import read_lock, skill_digest, write_lock

    lock = read_lock(repo)
    lock.skills["alpha-skill"].digest = skill_digest(repo / "skills/alpha-skill")
    write_lock(repo, lock)
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 0 and "update" in r.out
    assert (project / ".claude/skills/alpha-skill/SKILL.md").read_text().endswith("v2\n")
    assert not [p for p in (project / ".claude/skills").iterdir() if p.name.startswith(".skillctl-tmp")]


def test_sync_config_schema_names_the_key(setup, cli):
    repo, project, _ = setup
    (repo / "skillctl.yaml").write_text("sync:\n  mode: move\n")
    r = cli("sync", "--repo", str(repo), "--project", str(project))
    assert r.code == 2 and "sync.mode" in r.err
    (repo / "skillctl.yaml").write_text("sync:\n  targets:\n    - {name: claude, path: x}\n")
    r = cli("sync", "--repo", str(repo), "--project", str(project))
    assert r.code == 2 and "not both" in r.err
    (repo / "skillctl.yaml").write_text("sync:\n  mode: link\n  targets: [claude]\n")
    assert cli("sync", "--repo", str(repo), "--project", str(project)).code == 0
    assert (project / ".claude/skills/alpha-skill").is_symlink()


def test_cached_verdicts_never_outlive_a_change(setup, cli, settled_at_once):
    """The no-change fast path reuses the loader's verdict only while nothing it read changed."""
    repo, project, _ = setup
    assert cli("sync", "claude", "--repo", str(repo), "--project", str(project)).code == 0
    assert (repo / ".skillctl/sync-verdicts.json").is_file()
    skill_md = repo / "skills/alpha-skill/SKILL.md"
    skill_md.write_text(skill_md.read_text() + "tampered after verification\n")  # digest no longer matches
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 0 and "remove" in r.out and "alpha-skill" in r.out
    set_status(repo, "beta-skill", "stale")  # the lock changed
    assert cli("sync", "claude", "--repo", str(repo), "--project", str(project)).code == 0
    assert listed(project / ".claude/skills") == set()


def test_expiry_is_checked_even_on_the_fast_path(setup, cli):
    from datetime import datetime, timedelta, timezone

    from freezegun import freeze_time

    repo, project, _ = setup
    assert cli("sync", "claude", "--repo", str(repo), "--project", str(project)).code == 0
    with freeze_time(datetime.now(timezone.utc) + timedelta(days=31)):
        assert cli("sync", "claude", "--repo", str(repo), "--project", str(project)).code == 0
    assert listed(project / ".claude/skills") == set()


def test_missing_lock_syncs_nothing(tmp_path, cli):
    (tmp_path / "repo").mkdir()
    r = cli("sync", "--target", str(tmp_path / "t"), "--repo", str(tmp_path / "repo"))
    assert r.code == 2 and "SC021" in r.err and not (tmp_path / "t").exists()


def test_a_sync_killed_mid_way_is_finished_by_the_next(setup, cli, monkeypatch):
    import skillctl.deliver.sync as sync_mod
    from skillctl.lock import read_lock, skill_digest, write_lock

    repo, project, _ = setup
    cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    for name in ("alpha-skill", "beta-skill"):
        md = repo / "skills" / name / "SKILL.md"
        md.write_text(md.read_text() + "v2\n")
    lock = read_lock(repo)
    for name in ("alpha-skill", "beta-skill"):
        lock.skills[name].digest = skill_digest(repo / "skills" / name)
    write_lock(repo, lock)
    real_rename, calls = os.rename, []

    def dying_rename(src, dst):  # the process dies between the two renames of an update
        calls.append(src)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_rename(src, dst)

    monkeypatch.setattr(sync_mod.os, "rename", dying_rename)
    with pytest.raises(KeyboardInterrupt):
        run_sync(repo, [Target("claude", project / ".claude/skills")], project=project)
    monkeypatch.setattr(sync_mod.os, "rename", real_rename)
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 0, r.out
    target = project / ".claude/skills"
    assert listed(target) == {"alpha-skill", "beta-skill"}
    assert all((target / n / "SKILL.md").read_text().endswith("v2\n") for n in ("alpha-skill", "beta-skill"))
    assert not [p for p in target.iterdir() if p.name.startswith((".skillctl-tmp", ".skillctl-old"))]


def test_a_copy_that_differs_from_the_verdict_is_not_written(setup, tmp_path):
    from skillctl.deliver.sync import _materialize
    from skillctl.errors import InputError
    from skillctl.loader import load_skills

    repo, _, _ = setup
    skill = load_skills(repo)[0]
    (Path(skill.folder) / "SKILL.md").write_text("swapped after the verdict\n")
    with pytest.raises(InputError, match="changed while it was being copied"):
        _materialize(skill, tmp_path / "dest", "copy", judged="")
    assert not (tmp_path / "dest").exists()


def test_agent_folder_inside_the_repo_is_not_discovered_as_more_skills(setup, cli):
    """A project that keeps its skills repo at its root syncs into its own .claude/skills."""
    from skillctl.loader import explain_load

    repo, _, _ = setup
    before = explain_load(repo)
    assert cli("sync", "claude", "--repo", str(repo), "--project", str(repo)).code == 0
    assert listed(repo / ".claude/skills") == {"alpha-skill", "beta-skill"}
    after = explain_load(repo)
    assert [s.name for s in after.loaded] == [s.name for s in before.loaded]
    assert after.rejected == before.rejected  # the copies are not "never verified" skills
    assert cli("sync", "claude", "--repo", str(repo), "--project", str(repo)).code == 0


def test_a_copy_in_another_root_the_agent_reads_is_reported(setup, cli):
    repo, project, home = setup
    write_skill(home / ".claude/skills/alpha-skill", "alpha-skill")
    r = cli("sync", "claude", "--repo", str(repo), "--project", str(project))
    assert r.code == 0 and "claude also reads" in r.out and "list this skill twice" in r.out


def test_copy_tree_keeps_bytes_modes_and_links_and_refuses_a_fifo(tmp_path):
    from skillctl.deliver.sync import copy_tree
    from skillctl.errors import InputError
    from skillctl.lock import skill_digest

    src = write_skill(tmp_path / "src" / "skills" / "tool", "tool")
    (src / "scripts" / "deep").mkdir(parents=True)
    (src / "scripts" / "run.sh").write_bytes(b"#!/bin/sh\necho \x00binary\n")
    (src / "scripts" / "run.sh").chmod(0o755)
    (src / "scripts" / "deep" / "data.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (src / "scripts" / "link").symlink_to("run.sh")
    copy_tree(str(src), str(tmp_path / "dest"))
    dest = tmp_path / "dest"
    assert skill_digest(dest, root=tmp_path) == skill_digest(src, root=tmp_path)
    assert os.readlink(dest / "scripts" / "link") == "run.sh" and (dest / "scripts" / "link").is_symlink()
    assert (dest / "scripts" / "run.sh").stat().st_mode & 0o777 == 0o755
    os.mkfifo(src / "scripts" / "pipe")
    with pytest.raises(InputError, match="not a regular file"):
        copy_tree(str(src), str(tmp_path / "dest2"))


def test_verdicts_judged_in_workers_equal_the_loaders(tmp_path, monkeypatch, request):
    if not forks_alone(request):
        return
    import skillctl.deliver.folders as folders
    import skillctl.deliver.verdicts as verdicts
    from skillctl.loader import explain_load
    from skillctl.repo import discover_skills

    repo = verified_repo(tmp_path / "repo", [f"skill-{i:02d}" for i in range(12)],
                         status={"skill-03": "quarantined", "skill-07": "failing"})
    (repo / "skills" / "skill-05" / "SKILL.md").write_text("edited after verification\n")
    write_skill(repo / "skills" / "unlocked", "unlocked")
    monkeypatch.setattr(verdicts, "PARALLEL_FROM", 2)
    monkeypatch.setattr(verdicts, "CHUNK", 3)
    if folders.cores() < 2:
        monkeypatch.setattr(folders, "cores", lambda: 2)
    root = repo.resolve()
    loaded = verdicts.loaded_skills(root, discover_skills(root), datetime.now(timezone.utc))
    assert loaded == explain_load(root).loaded
    assert [s.name for s in loaded] == [f"skill-{i:02d}" for i in range(12) if i not in (3, 5, 7)]
