"""Every kind of broken SKILL.md gets a named error, exit 2, no traceback, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_skill, skill_text, tree_snapshot

from skillctl.errors import InputError
from skillctl.parse import MAX_SKILL_BYTES, read_skill

CASES = {
    "missing-frontmatter": (b"# Title\n\nNo frontmatter here.\n", "SK010", 1),
    "unterminated": (b"---\nname: x\ndescription: y\n\n# Body\n", "SK011", 1),
    "yaml-syntax": (b"---\nname: x\ndescription: [unclosed\n---\nbody\n", "SK012", 4),
    "not-mapping": (b"---\n- a\n- b\n---\nbody\n", "SK013", 2),
    "scalar": (b"---\njust a string\n---\nbody\n", "SK013", 2),
    "duplicate-keys": (b"---\nname: x\ndescription: y\nname: z\n---\nbody\n", "SK014", 4),
    "nested-duplicate": (b"---\nname: x\ndescription: y\nmetadata:\n  a: '1'\n  a: '2'\n---\n", "SK014", 6),
    "non-utf8": (b"---\nname: x\ndescription: caf\xe9\n---\nbody\n", "SK002", 3),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00" * 50, "SK003", None),
    "empty": (b"", "SK005", 1),
    "whitespace-only": (b"  \n\n\t\n", "SK005", 1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_skill_md_is_a_named_error(tmp_path: Path, cli, case: str) -> None:
    data, code, line = CASES[case]
    folder = tmp_path / "skills" / "x"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_bytes(data)
    with pytest.raises(InputError) as info:
        read_skill(folder)
    assert info.value.code == code
    assert info.value.line == line
    before = tree_snapshot(tmp_path)
    res = cli("validate", str(folder))
    assert res.code == 1  # a finding about the skill; 2 is for when skillctl cannot run at all
    expected_loc = f"{folder / 'SKILL.md'}:{line}" if line else f"{folder / 'SKILL.md'}"
    assert f"{expected_loc}: {code} error:" in res.out
    assert tree_snapshot(tmp_path) == before


def test_bom_and_crlf_are_accepted_with_a_note(tmp_path: Path, cli) -> None:
    text = skill_text("bom-crlf").replace("\n", "\r\n")
    folder = tmp_path / "skills" / "bom-crlf"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_bytes(b"\xef\xbb\xbf" + text.encode())
    skill = read_skill(folder)
    assert skill.name == "bom-crlf"
    assert [c.id for c in skill.checks] == ["says-hello"]
    assert {d.code for d in skill.diagnostics} >= {"SK015", "SK016"}
    res = cli("validate", "--strict", "-v", str(folder))
    assert res.code == 0, res.out
    assert "SK015 info" in res.out and "SK016 info" in res.out


def test_huge_skill_md_is_capped_not_read(tmp_path: Path, cli) -> None:
    folder = tmp_path / "skills" / "huge"
    folder.mkdir(parents=True)
    with open(folder / "SKILL.md", "wb") as fh:
        fh.write(skill_text("huge").encode())
        fh.write(b"x" * (50 * 1024 * 1024))
    res = cli("validate", str(folder))
    assert res.code == 1
    assert "SK004" in res.out and f"larger than {MAX_SKILL_BYTES // 1024} KiB" in res.out


def test_folder_without_skill_md(tmp_path: Path, cli) -> None:
    (tmp_path / "empty-dir").mkdir()
    res = cli("validate", str(tmp_path / "empty-dir"))
    assert res.code == 1
    assert "SK001" in res.out
    with pytest.raises(InputError) as info:
        read_skill(tmp_path / "empty-dir")
    assert info.value.code == "SK001"


def test_path_that_does_not_exist(tmp_path: Path, cli) -> None:
    res = cli("validate", str(tmp_path / "nope"))
    assert res.code == 2
    assert f"{tmp_path / 'nope'}: SK007 error: path does not exist" in res.out


def test_symlink_leaving_the_repo_is_refused(tmp_path: Path, cli) -> None:
    outside = tmp_path / "outside"
    make_skill(outside, "evil")
    root = tmp_path / "repo"
    (root / "skills").mkdir(parents=True)
    os.symlink(outside / "skills" / "evil", root / "skills" / "evil")
    with pytest.raises(InputError) as info:
        read_skill(root / "skills" / "evil", root=root)
    assert info.value.code == "SK006"
    # the same through a symlinked SKILL.md inside a real folder
    (root / "skills" / "sneaky").mkdir()
    os.symlink(outside / "skills" / "evil" / "SKILL.md", root / "skills" / "sneaky" / "SKILL.md")
    with pytest.raises(InputError) as info:
        read_skill(root / "skills" / "sneaky", root=root)
    assert info.value.code == "SK006"
    res = cli("list", "--repo", str(root))
    assert res.code == 0
    assert "untracked" in res.out


@pytest.mark.parametrize(("name", "code"), [("Foo", "SK102"), ("café-skill", "SK103"), ("ascii--double", "SK103"),
                                             ("-lead", "SK103"), ("x" * 65, "SK101")])
def test_bad_names(tmp_path: Path, cli, name: str, code: str) -> None:
    folder = make_skill(tmp_path, "some-folder", text=skill_text(name))
    res = cli("validate", str(folder))
    assert res.code == 1
    assert f"SKILL.md:2: {code} error:" in res.out


def test_description_over_1024_chars(tmp_path: Path, cli) -> None:
    folder = make_skill(tmp_path, "long-desc", description="d" * 1025)
    res = cli("validate", str(folder))
    assert res.code == 1
    assert "SKILL.md:3: SK111 error: description is 1025 characters; the limit is 1024" in res.out


def test_a_folder_named_outside_the_repo_is_read_as_given(tmp_path: Path) -> None:
    elsewhere = make_skill(tmp_path / "elsewhere", "plain")
    root = tmp_path / "repo"
    root.mkdir()
    assert read_skill(elsewhere, root=root).name == "plain"


def test_validate_refuses_a_symlink_leaving_the_repo(tmp_path: Path, cli) -> None:
    outside = tmp_path / "outside"
    make_skill(outside, "evil")
    root = tmp_path / "repo"
    (root / "skills").mkdir(parents=True)
    os.symlink(outside / "skills" / "evil", root / "skills" / "evil")
    res = cli("validate", "--repo", str(root), str(root / "skills" / "evil"))
    assert res.code == 1
    assert "SK006" in res.out
