"""Session readers on files real agents wrote (``real/``) and on hand-built edge cases (``hand/``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillctl.errors import InputError
from skillctl.synth.sessions import FORMATS, detect_format, read_sessions

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "sessions"
REAL = FIX / "real"
HAND = FIX / "hand"

WORDFREQ = [REAL / "claude-code" / "wordfreq.jsonl", REAL / "codex" / "wordfreq.jsonl",
            REAL / "hermes" / "wordfreq.state.db", REAL / "hermes" / "wordfreq.export.jsonl"]
FAILING = [REAL / "claude-code" / "failing.jsonl", REAL / "codex" / "failing.jsonl",
           REAL / "hermes" / "failing.state.db", REAL / "hermes" / "failing.export.jsonl"]


def one(path: Path):
    sessions = list(read_sessions(path))
    assert len(sessions) == 1
    return sessions[0]


@pytest.mark.parametrize("path", WORDFREQ, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_tool_heavy_session(path):
    s = one(path)
    assert s.task.startswith("Find the three most frequent words in notes.txt")
    assert [st.kind for st in s.steps] == ["shell"] * 7
    assert s.steps[0].command == "ls -a"
    failed = s.steps[3]
    assert failed.command == "sort --by-count notes.txt" and failed.exit_code == 2 and failed.ok is False
    assert all(st.ok for i, st in enumerate(s.steps) if i != 3)
    assert [(c.failed.index, c.fixed.index) for c in s.corrections] == [(4, 5)]
    assert "IMPORTANT SYSTEM NOTE" in s.steps[2].output  # kept as data; drafting must not use it
    assert s.success is True and s.final_answer.startswith("The three most frequent words")
    assert s.warnings == []


@pytest.mark.parametrize("path", FAILING, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_failing_session(path):
    s = one(path)
    assert s.success is False and "failed" in s.outcome_reason
    assert s.steps[-1].ok is False and s.corrections == []
    first = s.steps[0]
    assert first.kind == "skill" or "word-frequency/SKILL.md" in (first.command or "")


def test_formats_detected_by_content_not_name(tmp_path):
    expected = {REAL / "claude-code" / "wordfreq.jsonl": "claude-code", REAL / "codex" / "wordfreq.jsonl": "codex",
                REAL / "hermes" / "wordfreq.state.db": "hermes-db",
                REAL / "hermes" / "wordfreq.export.jsonl": "hermes-export",
                HAND / "openai" / "chat.json": "openai-chat", HAND / "openai" / "chat.jsonl": "openai-chat",
                HAND / "openai" / "responses.json": "openai-responses",
                HAND / "openai" / "responses.jsonl": "openai-responses"}
    for i, (path, fmt) in enumerate(expected.items()):
        renamed = tmp_path / f"session-{i}.txt"
        renamed.write_bytes(path.read_bytes())
        assert detect_format(renamed)[0] == fmt
    assert set(expected.values()) == set(FORMATS)


def test_claude_sidechain_and_compaction():
    s = one(HAND / "claude-code" / "5b0f3a52-0000-4000-8000-00000000c0de.jsonl")
    assert s.task == "Build the release archive for the project and check its checksum."
    assert s.followups == []  # the compact summary, meta and <command-name> records are not prompts
    side = [st for st in s.steps if st.sidechain]
    assert [st.command for st in side] == ["tar tzf build/app.tar.gz"]  # from subagents/agent-a1.jsonl
    assert [st.command for st in s.main_steps if st.kind == "shell"][-1] == "sha256sum -c build/app.sha256"
    assert s.final_answer == "The archive is built.\nIts checksum verifies: build/app.tar.gz: OK"
    assert [(c.failed.command, c.fixed.command) for c in s.corrections] == [("make dist", "make release")]


def test_truncated_last_line_and_inline_sidechain():
    s = one(HAND / "claude-code" / "truncated.jsonl")
    assert len(s.warnings) == 1 and "truncated last line" in s.warnings[0]
    assert [st.sidechain for st in s.steps] == [False, True, False]
    assert s.final_answer == "" and s.success is None  # the answer was the line that got cut


def test_codex_shell_variants():
    s = one(HAND / "codex" / "rollout-2026-11-30T09-00-00-variants.jsonl")
    assert s.task == "Run the service's tests and fix the import error."  # developer + environment skipped
    assert [(st.tool, st.command, st.exit_code) for st in s.steps if st.kind == "shell"] == [
        ("shell", "pytest -q", 2), ("shell_command", "pytest -q tests/test_util.py", 0),
        ("local_shell_call", "pytest -q", 0), ("exec_command", "git diff --stat", 0)]
    assert s.steps[1].tool == "apply_patch" and s.steps[1].kind == "write"
    assert len(s.steps) == 5  # compacted.replacement_history is not read again
    assert s.success is True and s.ended == "task_complete"


@pytest.mark.parametrize("name", ["chat.json", "chat.jsonl"])
def test_openai_chat(name):
    s = one(HAND / "openai" / name)
    assert [st.command for st in s.steps] == ["head -2 data.csv", "jq -R 'split(\",\")' data.csv > out.jsonl",
                                              "wc -l out.jsonl"]
    assert s.final_answer == "Done: out.jsonl holds 3 records." and s.success is True


@pytest.mark.parametrize("name", ["responses.json", "responses.jsonl"])
def test_openai_responses(name):
    s = one(HAND / "openai" / name)
    assert s.steps[0].tool == "run_command" and s.steps[0].command == "ss -ltn"
    assert s.final_answer == "Port 22 is open."


def test_empty_and_unknown(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty") as exc:
        list(read_sessions(empty))
    assert exc.value.code == "SC091"
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n  \n")
    with pytest.raises(InputError, match="no records"):
        list(read_sessions(blank))
    unknown = tmp_path / "x.jsonl"
    unknown.write_text(json.dumps({"hello": "world"}) + "\n")
    with pytest.raises(InputError, match="known formats: Claude Code") as exc:
        list(read_sessions(unknown))
    assert exc.value.code == "SC092"
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(InputError, match="known formats"):
        list(read_sessions(binary))
    with pytest.raises(InputError, match="does not exist"):
        list(read_sessions(tmp_path / "missing.jsonl"))


def test_corrupt_hermes_db(tmp_path):
    bad = tmp_path / "state.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(InputError) as exc:
        list(read_sessions(bad))
    assert exc.value.code == "SC094"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "role", "content", "message", "payload", "tool_calls", "id", "call_id",
                         "tool_use_id", "name", "input", "arguments", "output", "sessionId", "uuid", "text",
                         "is_error", "function", "messages", "end_reason"]), children, max_size=5),
    max_leaves=20)
records = st.fixed_dictionaries({"type": st.sampled_from(["user", "assistant", "response_item", "event_msg",
                                                          "message", "function_call"])}) | json_values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(records, min_size=1, max_size=8))
def test_fuzz_hostile_jsonl_never_crashes(tmp_path, lines):
    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    try:
        for session in read_sessions(path):
            session.to_dict()
    except InputError:
        pass
