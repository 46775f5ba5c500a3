"""Running and judging checks: real interpreters in the real sandbox, plus the output matcher."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from skillctl.model import Check
from skillctl.parse import extract_checks
from skillctl.sandbox import Limits
from skillctl.verify.pool import MIN_SHARE, spread
from skillctl.verify.runner import CheckResult, match_output, run_check


def checks_of(markdown: str) -> dict[str, Check]:
    checks, diags = extract_checks(textwrap.dedent(markdown), 1)
    assert not [d for d in diags if d.severity.value == "error"], diags
    return {c.id or f"line-{c.line}": c for c in checks}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    skill = tmp_path / "skill"
    (skill / "scripts").mkdir(parents=True)
    (skill / "scripts" / "table.py").write_text("print('name,qty,price')\nprint('apple,3,1.20')\n")
    return skill


def run(check: Check, folder: Path, **kw) -> CheckResult:
    return run_check(check, folder, **kw)


def test_bash_check_with_matching_output_passes(folder):
    c = checks_of("""\
        ## Verification
        ```bash {check=extracts timeout=10}
        python scripts/table.py | head -1
        ```
        ```output {for=extracts}
        name,qty,price
        ```
        """)["extracts"]
    res = run(c, folder)
    assert res.passed, res
    assert res.reason == "ok" and res.exit_code == 0 and res.isolation in ("bwrap", "fallback")
    assert res.duration > 0 and res.line == 2


def test_output_mismatch_fails_and_says_where(folder):
    c = checks_of("""\
        ## Verification
        ```sh {check=extracts}
        python scripts/table.py
        ```
        ```output {for=extracts}
        name,qty,price
        pear,3,1.20
        ```
        """)["extracts"]
    res = run(c, folder)
    assert res.status == "fail"
    assert res.reason == "output mismatch: line 2: expected 'pear,3,1.20', got 'apple,3,1.20'"


def test_python_check_runs_with_skillctls_interpreter(folder):
    c = Check(id="py", language="python", code="import sys, os\nprint(os.path.exists('scripts/table.py'))",
              line=3, expected_output="True\n")
    assert run(c, folder).passed


def test_failing_line_fails_the_bash_check(folder):
    c = Check(id="strict", language="bash", code="false\necho still-here", line=1)
    res = run(c, folder)
    assert res.status == "fail" and res.reason == "exit 1" and "still-here" not in res.stdout_tail


def test_timeout_is_reported_as_failure(folder):
    c = Check(id="slow", language="sh", code="sleep 30", line=1, attributes={"check": "slow", "timeout": "0.5"})
    res = run(c, folder)
    assert res.status == "fail" and res.timed_out and res.reason == "timed out after 0.5s"


def test_killed_by_signal_names_the_signal(folder):
    c = Check(id="segv", language="bash", code="kill -SEGV $$", line=1)
    res = run(c, folder)
    assert res.status == "fail" and "SIGSEGV" in res.reason


def test_memory_limit_is_named_in_the_reason(folder):
    c = Check(id="hog", language="python", code="b = bytearray(1024 ** 3)", line=1)
    res = run(c, folder)
    assert res.status == "fail" and "memory limit 1024 MiB" in res.reason
    assert "MemoryError" in res.stderr_tail


@pytest.mark.parametrize(
    ("language", "attributes", "expected"),
    [
        ("ruby", {"check": "x"}, "unsupported language 'ruby'"),
        ("bash", {"check": "x", "timeout": "0"}, "timeout '0' must be a number of seconds"),
        ("bash", {"check": "x", "timeout": "1000000000"}, "timeout '1000000000'"),
        ("bash", {"check": "x", "timeout": "soon"}, "timeout 'soon'"),
        ("bash", {"check": "x", "sudo": "true"}, "unknown attribute(s) sudo"),
        ("bash", {"check": "x", "network": "maybe"}, "network must be true or false"),
        ("bash", {"check": "x", "env": "GOOD,1BAD"}, "env names must be variable names: 1BAD"),
    ],
)
def test_checks_that_cannot_be_judged_are_errors_not_crashes(folder, language, attributes, expected):
    c = Check(id="x", language=language, code="echo hi", line=7, attributes=attributes)
    res = run(c, folder)
    assert res.status == "error" and expected in res.reason and res.exit_code is None


def test_check_without_id_is_an_error(folder):
    c = checks_of("## Verification\n```bash {timeout=5}\necho hi\n```\n")["line-2"]
    res = run(c, folder)
    assert res.status == "error" and res.id == "line-2" and "has no id" in res.reason


def test_env_names_pass_through_and_nothing_else(folder, monkeypatch):
    monkeypatch.setenv("API_REGION", "eu")
    monkeypatch.setenv("API_TOKEN", "t0ken")
    c = Check(id="env", language="sh", code="echo ${API_REGION:-none} ${API_TOKEN:-hidden}", line=1,
              attributes={"check": "env", "env": "API_REGION"}, expected_output="eu hidden")
    assert run(c, folder).passed


def test_huge_output_with_expected_output_cannot_pass(folder):
    c = Check(id="big", language="sh", code="yes | head -c 1000000", line=1, expected_output="y\n...\n")
    res = run(c, folder)
    assert res.status == "fail" and "truncated" in res.reason and res.stdout_truncated


def test_huge_output_without_expected_output_passes_but_says_truncated(folder):
    c = Check(id="big", language="sh", code="yes | head -c 1000000", line=1)
    res = run(c, folder, limits=Limits(output_bytes=1024))
    assert res.passed and res.stdout_truncated and len(res.stdout_tail) <= 2000


def test_binary_garbage_becomes_printable_serialisable_text(folder):
    c = Check(id="bin", language="sh", code="head -c 3000 /dev/urandom; printf '\\000\\033[31m\\n'", line=1)
    res = run(c, folder)
    assert res.passed
    assert not any(ord(ch) < 32 and ch not in "\n\t\r" for ch in res.stdout_tail)
    assert json.loads(res.model_dump_json())["id"] == "bin"


def test_script_deleting_its_folder_is_judged_normally(folder):
    c = Check(id="rm", language="bash", code='rm -rf "$PWD"; echo bye', line=1, expected_output="bye")
    assert run(c, folder).passed
    assert (folder / "scripts" / "table.py").exists()


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("a\nb\n", "a\nb"),
        ("a  \nb", "a\nb   \n\n\n"),
        ("a\n...\nz", "a\nb\nc\nz"),
        ("a\n...\nz", "a\nz"),
        ("...", ""),
        ("...\nlast", "x\ny\nlast"),
        ("first\n...", "first\nanything\nat all"),
        ("a\n...\nb\n...\nc", "a\nx\nb\ny\nb\nc"),
        ("", ""),
        ("line\r\n", "line\n"),
    ],
)
def test_output_matches(expected, actual):
    assert match_output(expected, actual) is None


@pytest.mark.parametrize(
    ("expected", "actual", "message"),
    [
        ("a\nb", "a\nc", "line 2: expected 'b', got 'c'"),
        ("a\nb", "a", "line 2: expected 'b', got end of output"),
        ("a", "a\nextra", "line 2: unexpected extra output 'extra'"),
        ("a\n...\nz", "a\nb\nc", "expected 'z', got end of output"),
        ("  a", "a", "line 1: expected '  a', got 'a'"),
        ("", "something", "unexpected extra output"),
    ],
)
def test_output_mismatches(expected, actual, message):
    assert message in (match_output(expected, actual) or "")


def test_spread_splits_only_a_skill_that_would_keep_one_worker_busy_alone():
    big = ("big", list(range(200)))
    pieces = spread([big], 2)
    assert pieces == [("big", list(range(100))), ("big", list(range(100, 200)))]
    assert spread([big], 1) == [big]
    many = [(f"s{i}", [i]) for i in range(200)]  # many small skills already fill the workers
    assert spread(many, 2) == many
    mixed = [big, *many[:20]]  # the big one holds most of the checks: it still gets two workers
    assert [name for name, _ in spread(mixed, 2)][:2] == ["big", "big"] and len(spread(mixed, 2)) == 22
    small = ("small", list(range(MIN_SHARE + 3)))  # too few checks to pay for a second sandbox
    assert spread([small], 2) == [small]
    assert sorted(c for _n, cs in spread([big], 3) for c in cs) == list(range(200))
