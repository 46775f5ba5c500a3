"""SKILL.md facts cached by file identity: reused when untouched, re-read after any edit."""

from __future__ import annotations

import os

from conftest import make_skill, skill_text

from skillctl.errors import InputError
from skillctl.rot import skillfacts
from skillctl.state import open_state


def facts(root, folders):
    db = open_state(root)
    try:
        return skillfacts.skill_facts(root, folders, db)
    finally:
        db.close()


def test_unchanged_files_are_not_parsed_again(tmp_path, monkeypatch, settled_at_once):
    folder = make_skill(tmp_path, "demo")
    first = facts(tmp_path, [folder])[folder]
    assert first.name == "demo" and first.ttl == "30d" and first.pins[0].package == "python3"
    assert first.pins[0].line is not None

    def boom(*a, **k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(skillfacts, "read_skill", boom)
    again = facts(tmp_path, [folder])[folder]
    assert again == first


def test_an_edit_is_seen(tmp_path):
    folder = make_skill(tmp_path, "demo")
    facts(tmp_path, [folder])
    text = (folder / "SKILL.md").read_text().replace("ttl: 30d", "ttl: 7d")
    (folder / "SKILL.md").write_text(text)
    assert facts(tmp_path, [folder])[folder].ttl == "7d"


def test_unreadable_is_an_error_and_never_cached(tmp_path):
    folder = make_skill(tmp_path, "demo", text="---\nname: [oops\n---\n")
    assert isinstance(facts(tmp_path, [folder])[folder], InputError)
    (folder / "SKILL.md").write_text(skill_text("demo"))
    assert facts(tmp_path, [folder])[folder].name == "demo"


def test_symlinked_skill_md_always_goes_through_read_skill(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text(skill_text("demo"))
    root = tmp_path / "repo"
    folder = root / "skills" / "demo"
    folder.mkdir(parents=True)
    os.symlink(outside, folder / "SKILL.md")
    for _ in range(2):
        result = facts(root, [folder])[folder]
        assert isinstance(result, InputError) and "outside the repository" in str(result)
