"""skillctl.yaml: one schema, errors with file:line and key path, unknown keys as warnings."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillctl.config import CONFIG_NAME, load_config
from skillctl.errors import ConfigError
from skillctl.init import CONFIG_TEMPLATE, init_repo


def _commented_examples(template: str) -> list[tuple[str, str]]:
    """Each commented YAML block of the template: (first key, the block uncommented)."""
    blocks: list[tuple[str, str]] = []
    current: list[str] = []
    for line in [*template.splitlines(), ""]:
        if re.match(r"^# [a-z_]+:", line) or (current and line.startswith("#   ")):
            current.append(line[2:])
            continue
        if current:
            blocks.append((current[0].split(":")[0], "\n".join(current) + "\n"))
            current = []
    return blocks


def test_init_template_has_the_examples_this_test_switches_on():
    keys = [key for key, _ in _commented_examples(CONFIG_TEMPLATE)]
    assert keys == ["registries", "rules", "trust", "require_signed", "policy", "audit", "suppress"]


@pytest.mark.parametrize("key", ["registries", "rules", "trust", "require_signed", "policy", "audit", "suppress"])
def test_every_commented_example_is_valid_when_switched_on(tmp_path, cli, key):
    init_repo(tmp_path)
    block = dict(_commented_examples(CONFIG_TEMPLATE))[key]
    config_file = tmp_path / CONFIG_NAME
    config_file.write_text(CONFIG_TEMPLATE + "\n" + block)
    config = load_config(tmp_path)
    assert config.warnings == []
    assert yaml.safe_load(block)[key]  # the block really says something
    if key == "rules":
        (tmp_path / "security" / "rules").mkdir(parents=True)
    # switched on, the commands that read the config still run (stale_on used to exit 2)
    for command in ("scan", "verify", "audit"):
        res = cli(command, "--repo", str(tmp_path), *(["--offline"] if command == "audit" else []))
        assert res.code == 0, (command, res.err)
        assert "SC01" not in res.err


def test_switched_on_policy_is_what_the_code_reads(tmp_path):
    block = dict(_commented_examples(CONFIG_TEMPLATE))["policy"]
    (tmp_path / CONFIG_NAME).write_text(block)
    from skillctl.policy import Policy
    from skillctl.rot import RotPolicy

    assert Policy.from_config(load_config(tmp_path)).block_at["team"] == "medium"
    rot = RotPolicy.from_config(load_config(tmp_path))
    assert rot.min_release_age == timedelta(days=3) and "major" in rot.stale_on


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("ttl: soon\n", 1, "ttl: 'soon' is not a duration"),
    ("timeout: 60\nretries: many\n", 2, "retries: expected an integer, got a string"),
    ("policy:\n  block_at:\n    team: hihg\n", 3, "policy.block_at.team: expected one of"),
    ("policy:\n  block_at:\n    admins: high\n", 3, "policy.block_at"),
    ("policy:\n  stale_on: [unreachable]\n", 2, "never demotes"),
    ("policy:\n  stale_on: major\n", 2, "policy.stale_on: expected a list"),
    ("audit:\n  concurrency: 0\n", 2, "audit.concurrency"),
    ("suppress:\n  - rule: RCE-001\n    reason: ok\n  - rule: X-1\n", 4, "suppress[1].reason: a reason is required"),
    ("suppress:\n  - rule: RCE-001\n    reason: '   '\n", 3, "suppress[0].reason"),
    ("require_sandbox: 'yes'\n", 1, "require_sandbox: expected true or false"),
    ("- just\n- a list\n", 1, "mapping"),
    ("ttl: [unclosed\n", 2, "YAML syntax error"),  # where the parser gave up
])
def test_bad_values_name_file_line_and_key_path(tmp_path, text, line, needle):
    (tmp_path / CONFIG_NAME).write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    assert needle in str(exc.value)
    assert exc.value.path == str(tmp_path / CONFIG_NAME) and exc.value.line == line


def test_bad_config_exits_2_with_location_and_writes_nothing(tmp_path, cli):
    init_repo(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("ttl: 30d\npolicy:\n  default_trust: root\n")
    before = (tmp_path / "skills.lock").read_bytes()
    res = cli("verify", "--apply", "--repo", str(tmp_path))
    assert res.code == 2
    assert f"{tmp_path / CONFIG_NAME}:3: SC012 policy.default_trust" in res.err
    assert (tmp_path / "skills.lock").read_bytes() == before


def test_unknown_keys_warn_with_did_you_mean_and_are_not_kept(tmp_path, cli):
    init_repo(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("tll: 2d\npolicy:\n  stale_onn: [major]\n  blok_at: {}\nzzz: 1\n")
    config = load_config(tmp_path)
    assert config.ttl == "30d"  # the misspelt key changed nothing
    assert not hasattr(config, "tll") and "tll" not in config.model_dump()
    text = "\n".join(config.warnings)
    assert ":1: SC013 warning: unknown key 'tll' is ignored (did you mean 'ttl'?)" in text
    assert ":3: SC013 warning: unknown key 'policy.stale_onn' is ignored (did you mean 'stale_on'?)" in text
    assert "'policy.blok_at' is ignored (did you mean 'block_at'?)" in text
    assert "'zzz' is ignored (known here:" in text
    res = cli("scan", "--repo", str(tmp_path))
    assert res.code == 0 and res.err.count("SC013") == 4


def test_durations_mean_the_same_everywhere(tmp_path):
    (tmp_path / CONFIG_NAME).write_text("ttl: 30m\naudit:\n  cache_ttl: 90s\npolicy:\n  abandoned_after: 52w\n")
    config = load_config(tmp_path)
    assert config.ttl == "30m" and config.audit.cache_ttl == "90s"
    assert config.policy.abandoned_after == timedelta(weeks=52)
    (tmp_path / CONFIG_NAME).write_text("ttl: 999999999w\n")
    with pytest.raises(ConfigError, match="not a duration"):
        load_config(tmp_path)


def test_dashes_and_underscores_are_one_key(tmp_path):
    (tmp_path / CONFIG_NAME).write_text("require-sandbox: true\n")
    assert load_config(tmp_path).require_sandbox is True


def test_empty_or_comment_only_config_is_the_defaults(tmp_path):
    for text in ("", "# nothing yet\n\n# really\n"):
        (tmp_path / CONFIG_NAME).write_text(text)
        config = load_config(tmp_path)
        assert config.ttl == "30d" and config.warnings == []


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)
_keys = st.sampled_from(["ttl", "timeout", "retries", "require_sandbox", "registries", "rules", "policy",
                         "audit", "suppress", "block_at", "stale_on", "x"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_keys, _values | st.dictionaries(_keys, _values, max_size=3), max_size=5))
def test_fuzz_any_mapping_loads_or_is_a_config_error(tmp_path, data):
    (Path(tmp_path) / CONFIG_NAME).write_text(yaml.safe_dump(data))
    try:
        load_config(tmp_path)
    except ConfigError as exc:
        assert exc.code in {"SC011", "SC012"} and exc.line is not None


def test_schema_literals_are_the_vocabulary():
    """pydantic needs Literal types; they must say exactly what skillctl.vocab says."""
    from typing import get_args

    from skillctl import config, vocab

    assert get_args(config.RotToken) == vocab.STALE_ON_TOKENS
    assert get_args(config.Tier) == vocab.TRUST_TIERS
    assert get_args(config.BlockLevel) == (*vocab.SEVERITIES, "never")
