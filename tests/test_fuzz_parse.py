"""Random bytes and random YAML into the parser: only our own errors may come out."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillctl.errors import InputError, LockError
from skillctl.lock import parse_lock
from skillctl.parse import read_skill
from skillctl.validate import validate_skill

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
frontmatter = st.fixed_dictionaries({}, optional={
    "name": yaml_values, "description": yaml_values, "license": yaml_values, "compatibility": yaml_values,
    "allowed-tools": yaml_values,
    "metadata": st.dictionaries(st.sampled_from(["skillctl", "hermes", "x"]), st.one_of(
        yaml_values, st.fixed_dictionaries({}, optional={
            "version": yaml_values, "ttl": yaml_values, "pins": st.lists(st.dictionaries(
                st.sampled_from(["datasource", "package", "version", "extra"]), yaml_values), max_size=3),
            "trust": yaml_values}))),
})


def _check(folder: Path) -> None:
    try:
        skill = read_skill(folder)
    except InputError as exc:
        assert exc.code.startswith("SK0") and exc.path
        return
    for d in validate_skill(skill, strict=True) + validate_skill(skill):
        assert d.code.startswith("SK") and d.message


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "SKILL.md").write_bytes(data)
    _check(folder)


@SETTINGS
@given(data=st.binary(max_size=600), body=st.text(max_size=400))
def test_random_bytes_after_a_fence(tmp_path: Path, data: bytes, body: str) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "SKILL.md").write_bytes(b"---\n" + data + b"\n---\n" + body.encode("utf-8", "surrogatepass"))
    _check(folder)


@SETTINGS
@given(fm=frontmatter, body=st.text(alphabet=st.sampled_from("`~#{}= \nabcheck-"), max_size=300))
def test_random_yaml_frontmatter(tmp_path: Path, fm: dict, body: str) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    text = "---\n" + yaml.safe_dump(fm, allow_unicode=True) + "---\n## Verification\n" + body
    (folder / "SKILL.md").write_text(text, encoding="utf-8", errors="surrogatepass")
    _check(folder)


@SETTINGS
@given(data=st.binary(max_size=1000) | yaml_values.map(lambda v: yaml.safe_dump({"version": 1, "skills": v}).encode()))
def test_random_lock_text(data: bytes) -> None:
    try:
        parse_lock(data, Path("skills.lock"))
    except LockError as exc:
        assert exc.code.startswith("SC02")
