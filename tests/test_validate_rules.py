"""Spec rules in strict vs lenient mode, and the metadata.skillctl block."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import make_skill, skill_text

from skillctl.parse import read_skill
from skillctl.validate import validate_skill


def codes(folder: Path, strict: bool = False) -> dict[str, str]:
    return {d.code: d.severity.value for d in validate_skill(read_skill(folder), strict=strict)}


def test_clean_skill_passes_strict(tmp_path: Path, cli) -> None:
    folder = make_skill(tmp_path)
    assert {c for c, s in codes(folder, strict=True).items() if s != "info"} == set()
    res = cli("validate", "--strict", str(folder))
    assert res.code == 0
    assert "0 error(s), 0 warning(s)" in res.err


def test_missing_name_falls_back_to_folder_in_lenient_mode(tmp_path: Path) -> None:
    folder = make_skill(tmp_path, "my-skill", text=skill_text().replace("name: demo-skill\n", ""))
    skill = read_skill(folder)
    assert skill.name == "my-skill"
    assert codes(folder)["SK100"] == "warning"
    assert codes(folder, strict=True)["SK100"] == "error"


def test_unknown_field_and_mismatch_warn_lenient_error_strict(tmp_path: Path) -> None:
    folder = make_skill(tmp_path, "other-folder", text=skill_text("demo-skill", extra="version: 1.0\n"))
    lenient, strict = codes(folder), codes(folder, strict=True)
    assert lenient["SK121"] == "warning" and lenient["SK104"] == "warning"
    assert strict["SK121"] == "error" and strict["SK104"] == "error"


def test_metadata_values_must_be_strings_in_strict_mode_except_vendor_namespaces(tmp_path: Path) -> None:
    lifecycle = "metadata:\n  author: someone\n  stars: 5\n  hermes:\n    tags: [a]\n"
    folder = make_skill(tmp_path, text=skill_text(lifecycle=lifecycle))
    strict = validate_skill(read_skill(folder), strict=True)
    by_code = {(d.code, d.line) for d in strict}
    assert ("SK123", 7) in by_code  # stars: 5
    assert ("SK124", 8) in by_code  # hermes: {...} accepted at info level
    assert "SK123" not in codes(folder)


@pytest.mark.parametrize(("block", "code", "line"), [
    ("    version: '1.0'\n", "SK202", 7),
    ("    version: 1.2\n", "SK202", 7),
    ("    ttl: 30 days\n", "SK201", 7),
    ("    ttl: 0d\n", "SK201", 7),
    ("    origin: robot\n", "SK203", 7),
    ("    trust: everyone\n", "SK204", 7),
    ("    color: blue\n", "SK205", 7),
    ("    pins: pypi\n", "SK210", 7),
    ("    pins:\n      - datasource: cargo\n        package: x\n        version: 1.0.0\n", "SK211", 8),
    ("    pins:\n      - datasource: pypi\n        version: 1.0.0\n", "SK212", 8),
    ("    pins:\n      - datasource: pypi\n        package: x\n        version: banana\n", "SK213", 8),
    ("    pins:\n      - datasource: pypi\n        package: x\n        version: 1.5\n", "SK213", 8),
    ("    pins:\n      - datasource: npm\n        package: x\n        version: latest-ish\n", "SK213", 8),
])
def test_lifecycle_block_errors_point_at_the_line(tmp_path: Path, block: str, code: str, line: int) -> None:
    lifecycle = "metadata:\n  skillctl:\n" + block
    folder = make_skill(tmp_path, text=skill_text(lifecycle=lifecycle))
    diags = [d for d in validate_skill(read_skill(folder)) if d.code == code]
    assert diags, [d.render() for d in validate_skill(read_skill(folder))]
    assert diags[0].line == line
    assert diags[0].severity.value == "error"


@pytest.mark.parametrize("version", ["1.2.3", ">=3.10", "~=2.31", "^1.2.0", "~1.2", "*", "==0.11.4"])
def test_pin_versions_and_ranges_accepted(tmp_path: Path, version: str) -> None:
    ds = "pypi" if not version.startswith(("^", "~1")) else "npm"
    lifecycle = f"metadata:\n  skillctl:\n    pins:\n      - datasource: {ds}\n        package: x\n" \
                f"        version: '{version}'\n"
    folder = make_skill(tmp_path, text=skill_text(lifecycle=lifecycle))
    assert "SK213" not in codes(folder)


CHECK_BODIES = {
    "SK220": "```bash\necho no id\n```\n",
    "SK221": "```bash {check=a}\ntrue\n```\n```bash {check=a}\ntrue\n```\n",
    "SK222": "```bash {check=a retries=3}\ntrue\n```\n",
    "SK223": "```bash {check=a}\ntrue\n```\n```output {for=b}\nx\n```\n",
    "SK224": "```bash {check=a timeout=0}\ntrue\n```\n",
    "SK225": "```bash {check=a network=maybe}\ntrue\n```\n",
    "SK226": "```ruby {check=a}\nputs 1\n```\n",
    "SK228": "```bash {check=a}\ntrue\n```\n```output {for=a}\nx\n```\n```output {for=a}\ny\n```\n",
    "SK229": "```bash {check=has/slash}\ntrue\n```\n",
}


@pytest.mark.parametrize("code", sorted(CHECK_BODIES))
def test_check_block_rules(tmp_path: Path, code: str) -> None:
    body = "# T\n\n## Verification\n" + CHECK_BODIES[code]
    folder = make_skill(tmp_path, text=skill_text(body=body))
    assert code in codes(folder)


def test_huge_timeout_rejected(tmp_path: Path) -> None:
    body = "## Verification\n```bash {check=a timeout=1000000000}\ntrue\n```\n"
    folder = make_skill(tmp_path, text=skill_text(body=body))
    assert codes(folder)["SK224"] == "error"


def test_checks_are_extracted_with_output_and_lines(tmp_path: Path) -> None:
    body = textwrap.dedent("""\
        # Title

        ```bash {check=not-in-section}
        false
        ```

        ## Verification

        ````bash {check=outer timeout=5 network=true env="HOME_X, TOKEN"}
        # a comment that looks like a heading
        ```
        echo nested fence
        ```
        ````
        ```python {check=py}
        print("hi")
        ```
        ```output {for=py}
        hi
        ...
        ```

        ## Next section
        ```bash {check=after}
        true
        ```
        """)
    folder = make_skill(tmp_path, text=skill_text(body=body))
    skill = read_skill(folder)
    assert [c.id for c in skill.checks] == ["outer", "py"]
    outer, py = skill.checks
    assert outer.timeout == 5 and outer.network is True and outer.env == ["HOME_X", "TOKEN"]
    assert "echo nested fence" in outer.code
    assert py.expected_output == "hi\n..."
    assert py.line == skill.body_line + 14


def test_managed_skill_without_checks_warns(tmp_path: Path) -> None:
    folder = make_skill(tmp_path, text=skill_text(body="# Nothing to verify\n"))
    assert codes(folder)["SK227"] == "warning"


def test_json_and_sarif_formats(tmp_path: Path, cli) -> None:
    folder = make_skill(tmp_path, "Bad", text=skill_text("Bad"))
    res = cli("validate", "--format", "json", str(folder))
    assert res.code == 1
    data = json.loads(res.out)
    assert data["summary"]["errors"] == 1
    assert data["diagnostics"][0]["code"] == "SK102"
    res = cli("validate", "--format", "sarif", "--repo", str(tmp_path), str(folder))
    sarif = json.loads(res.out)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "skillctl-validate"
    result = next(r for r in run["results"] if r["ruleId"] == "SK102")
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "skills/Bad/SKILL.md"
    assert loc["region"]["startLine"] == 2
    assert result["level"] == "error"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "SK102"
    # the global --json flag works too
    res = cli("--json", "validate", str(folder))
    assert json.loads(res.out)["summary"]["errors"] == 1
