"""One vocabulary: the Literal types say exactly what the tuples say, and durations parse once."""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

import pytest

from skillctl import vocab


def test_literals_match_the_tuples():
    assert get_args(vocab.Status) == vocab.STATUSES
    assert get_args(vocab.FindingSeverity) == vocab.SEVERITIES
    assert tuple(reversed(vocab.TRUST_TIERS)) == vocab.TRUST_ORDER
    assert vocab.DEFAULT_TIER in vocab.TRUST_TIERS
    assert set(vocab.DEFAULT_STALE_ON) <= set(vocab.STALE_ON_TOKENS)
    assert "unreachable" not in vocab.STALE_ON_TOKENS


@pytest.mark.parametrize(("text", "delta"), [
    ("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)),
    ("30d", timedelta(days=30)), (" 2w ", timedelta(weeks=2)),
])
def test_one_duration_grammar(text, delta):
    assert vocab.parse_duration(text) == delta
    assert vocab.parse_duration(vocab.format_duration(delta)) == delta


@pytest.mark.parametrize("text", ["0d", "-1d", "1y", "30", "d", "", "999999999w", "1" * 13 + "s", "1.5h", None, 30])
def test_not_a_duration(text):
    assert vocab.parse_duration(text) is None


def test_ttl_too_long_is_sk201_not_a_crash(tmp_path, cli):
    from conftest import make_skill, skill_text

    text = skill_text("long-ttl").replace("ttl: 30d", "ttl: 999999999w")
    make_skill(tmp_path, "long-ttl", text=text)
    res = cli("validate", str(tmp_path / "skills" / "long-ttl"))
    assert res.code == 1 and "SK201" in res.out


@pytest.mark.parametrize("name,ok", [
    ("pdf-tool", True), ("a", True), ("a" * 64, True), ("a" * 65, False), ("pdf-tool\n", False),
    ("pdf--tool", False), ("-pdf", False), ("pdf-", False), ("PDF", False), ("pdf_tool", False),
    ("сsv", False), ("", False), (None, False), (7, False),
])
def test_one_skill_name_rule(name, ok):
    assert vocab.is_skill_name(name) is ok


def test_a_name_ending_in_a_newline_is_sk103(tmp_path, cli):
    """``$`` would match before a trailing newline; a YAML block scalar name has exactly that."""
    from conftest import make_skill, skill_text

    text = skill_text("pdf-tool").replace("name: pdf-tool", "name: |\n  pdf-tool")
    make_skill(tmp_path, "pdf-tool", text=text)
    res = cli("validate", str(tmp_path / "skills" / "pdf-tool"))
    assert res.code == 1 and "SK103" in res.out
