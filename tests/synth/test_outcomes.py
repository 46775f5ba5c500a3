"""Outcomes storage: real state.db files, freezegun for the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from skillctl.errors import InputError
from skillctl.state import open_state, state_path
from skillctl.synth.outcomes import (
    OutcomePolicy,
    failing_by_outcomes,
    judge,
    list_outcomes,
    record_many,
    record_outcome,
    skill_stats,
)


def test_record_and_list(tmp_path):
    with freeze_time("2026-12-01T10:00:00Z"):
        rec = record_outcome(tmp_path, "csv-clean", "failure", note="wrong\x1b[31m delimiter", source="mcp")
    assert rec.id > 0 and rec.at == "2026-12-01T10:00:00Z" and rec.source == "mcp"
    assert rec.note == "wrong[31m delimiter"  # the escape byte is stripped
    assert state_path(tmp_path).is_file()
    assert [r.id for r in list_outcomes(tmp_path, "csv-clean")] == [rec.id]
    assert list_outcomes(tmp_path, "other") == []


@pytest.mark.parametrize("args", [("Bad_Name", "success"), ("ok", "meh"), ("", "success")])
def test_bad_input_is_refused_and_nothing_stored(tmp_path, args):
    with pytest.raises(InputError):
        record_outcome(tmp_path, *args)
    if state_path(tmp_path).exists():
        assert list_outcomes(tmp_path) == []


def test_bad_source_refused(tmp_path):
    with pytest.raises(InputError, match="source"):
        record_outcome(tmp_path, "x", "success", source="agent-said-so")


def test_event_is_idempotent(tmp_path):
    a = record_outcome(tmp_path, "x", "failure", source="session", session="s1", event="s1#3")
    b = record_outcome(tmp_path, "x", "failure", source="session", session="s1", event="s1#3")
    assert a.id == b.id and len(list_outcomes(tmp_path)) == 1
    n = record_many(tmp_path, [{"name": "x", "outcome": "failure", "event": "s1#3"},
                               {"name": "x", "outcome": "success", "event": "s2#1"}])
    assert n == 1 and len(list_outcomes(tmp_path)) == 2


def test_stats_window_and_policy(tmp_path):
    with freeze_time("2026-10-01T00:00:00Z"):  # outside a 30-day window seen from December
        for _ in range(5):
            record_outcome(tmp_path, "old-skill", "failure")
    with freeze_time("2026-12-01T00:00:00Z"):
        for outcome in ("success", "failure", "failure", "failure", "success"):
            record_outcome(tmp_path, "week-report", outcome, note=f"{outcome} run")
        record_outcome(tmp_path, "few-uses", "failure")
    with freeze_time("2026-12-02T00:00:00Z"):
        stats = {s.name: s for s in skill_stats(tmp_path, timedelta(days=30))}
        assert set(stats) == {"week-report", "few-uses"}
        wr = stats["week-report"]
        assert (wr.uses, wr.successes, wr.failures) == (5, 2, 3) and wr.success_rate == 0.4
        assert wr.last_failure is not None and wr.last_failure.note == "failure run"
        all_time = {s.name: s for s in skill_stats(tmp_path)}
        assert all_time["old-skill"].uses == 5
        failing = failing_by_outcomes(tmp_path, OutcomePolicy())
        assert list(failing) == ["week-report"]
        assert "2/5 uses succeeded (40%)" in failing["week-report"]
        assert judge(stats["few-uses"], OutcomePolicy()) is None  # 1 use: not enough evidence
        assert judge(wr, OutcomePolicy(min_success_rate=0.4)) is None  # exactly at the bar stays


def test_corrupt_state_db_is_rebuilt(tmp_path):
    path = state_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 100)
    record_outcome(tmp_path, "x", "success")
    assert len(list_outcomes(tmp_path)) == 1
    db = open_state(tmp_path)
    try:
        assert "outcomes" in db.table_names()
    finally:
        db.close()
