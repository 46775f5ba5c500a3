"""``skillctl mcp`` spoken to by the official SDK's own client, over stdio, in a subprocess.

Every test spawns the real server (``python -m skillctl mcp``) and talks MCP to it: the gate an
agent that speaks MCP gets must be the loader's, including after a demotion made by a real
``verify --apply`` while the server keeps running.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import git
import pytest
from conftest import make_skill, skill_text

from skillctl.loader import explain_load
from skillctl.lock import read_lock

SKILLS_REPO = Path(__file__).resolve().parents[1] / "skills_repo"
FLAG_BODY = """\
# Flagged

Works while the outside world says so.

## Verification
```bash {check=flag-is-on env=SKILLCTL_TEST_FLAG timeout=20}
test "$SKILLCTL_TEST_FLAG" = on
```
"""


@asynccontextmanager
async def session(root: Path):  # type: ignore[no-untyped-def]
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, args=["-m", "skillctl", "mcp", "--repo", str(root)])
    with open(root.parent / "mcp-server.log", "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            yield client


def run(root: Path, body: Callable[[Any], Awaitable[None]]) -> None:
    async def main() -> None:
        async with session(root) as client:
            await asyncio.wait_for(body(client), timeout=120)

    asyncio.run(main())


def text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def found(client: Any, query: str, limit: int = 50) -> list[str]:
    result = await client.call_tool("search_skills", {"query": query, "limit": limit})
    assert not result.is_error, text(result)
    return [r["name"] for r in result.structured_content["results"]]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(SKILLS_REPO, root)
    return root


def test_lists_the_three_tools_with_their_arguments(demo: Path) -> None:
    async def body(client: Any) -> None:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"search_skills", "load_skill", "record_outcome"}
        assert tools["search_skills"].input_schema["required"] == ["query"]
        assert tools["load_skill"].input_schema["required"] == ["name"]
        outcome = tools["record_outcome"].input_schema["properties"]["outcome"]
        assert outcome["enum"] == ["success", "failure"]

    run(demo, body)


def test_search_offers_exactly_the_loadable_skills(demo: Path) -> None:
    loadable = sorted(s.name for s in explain_load(demo).loaded)
    assert loadable and "csv-c1ean" not in loadable

    async def body(client: Any) -> None:
        assert sorted(await found(client, "use OR when OR skill")) == loadable
        assert await found(client, "csv") == ["csv-clean"]  # the quarantined lookalike is never offered
        assert await found(client, 'NEAR( "unbalanced') == []

    run(demo, body)


def test_load_skill_gives_text_and_files_or_the_loaders_reason(demo: Path) -> None:
    make_skill(demo, "never-verified")
    reasons = {r.name: r.reason for r in explain_load(demo).rejected}

    async def body(client: Any) -> None:
        ok = await client.call_tool("load_skill", {"name": "csv-clean"})
        assert not ok.is_error
        data = ok.structured_content
        assert data["skill_md"] == (demo / "skills" / "csv-clean" / "SKILL.md").read_text()
        assert "SKILL.md" in data["files"] and "scripts/clean_csv.py" in data["files"]
        for name in ("csv-c1ean", "requests-retry-session", "iso-week-report", "never-verified"):
            refused = await client.call_tool("load_skill", {"name": name})
            assert refused.is_error and reasons[name] in text(refused), (name, text(refused))
            assert "skill_md" not in text(refused)
        unknown = await client.call_tool("load_skill", {"name": "no-such-skill"})
        assert unknown.is_error and "no skill named 'no-such-skill'" in text(unknown)
        (demo / "skills" / "csv-clean" / "scripts" / "clean_csv.py").write_text("import os\nos.system('curl x')\n")
        edited = await client.call_tool("load_skill", {"name": "csv-clean"})
        assert edited.is_error and "digest mismatch" in text(edited)
        assert await found(client, "csv") == []

    run(demo, body)


def test_bad_arguments_are_error_results_not_crashes(demo: Path) -> None:
    async def body(client: Any) -> None:
        for tool, args in [("search_skills", {}), ("search_skills", {"query": "csv", "limit": 0}),
                           ("search_skills", {"query": "csv", "limit": "many"}),
                           ("search_skills", {"query": ""}), ("load_skill", {"name": 7}),
                           ("load_skill", {"name": "x" * 5000}),
                           ("record_outcome", {"name": "csv-clean", "outcome": "meh"}),
                           ("record_outcome", {"name": "csv-clean"}), ("no_such_tool", {})]:
            result = await client.call_tool(tool, args)
            assert result.is_error, (tool, args, text(result))
        assert await found(client, "csv") == ["csv-clean"]  # the server is still serving

    run(demo, body)


def test_record_outcome_stores_evidence(demo: Path) -> None:
    from skillctl.synth.outcomes import list_outcomes

    async def body(client: Any) -> None:
        done = await client.call_tool("record_outcome", {"name": "csv-clean", "outcome": "failure",
                                                         "note": "dedupe dropped a row"})
        assert not done.is_error, text(done)
        assert done.structured_content == {"recorded": True, "name": "csv-clean", "outcome": "failure"}
        bad = await client.call_tool("record_outcome", {"name": "../../etc", "outcome": "success"})
        assert bad.is_error

    run(demo, body)
    [record] = list_outcomes(demo, "csv-clean")
    assert (record.outcome, record.note, record.source) == ("failure", "dedupe dropped a row", "mcp")


def test_a_demotion_by_a_real_verify_run_reaches_a_running_client(repo: Path, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_skill(repo, "flag-check", text=skill_text("flag-check", description="Check the flag. Use when testing.",
                                                   body=FLAG_BODY))
    r = git.Repo(repo)
    r.git.add("-A")
    r.git.commit("-m", "flag skill")
    monkeypatch.setenv("SKILLCTL_TEST_FLAG", "on")
    assert cli("verify", "--repo", str(repo), "--apply").code == 0
    assert read_lock(repo).skills["flag-check"].status == "active"
    digest = read_lock(repo).skills["flag-check"].digest

    async def body(client: Any) -> None:
        assert await found(client, "flag") == ["flag-check"]
        assert not (await client.call_tool("load_skill", {"name": "flag-check"})).is_error
        monkeypatch.setenv("SKILLCTL_TEST_FLAG", "off")
        for _ in range(2):  # one failure is flaky; the second consecutive one demotes
            assert cli("verify", "--repo", str(repo), "--apply", "--force").code == 1
        entry = read_lock(repo).skills["flag-check"]
        assert entry.status == "failing" and entry.digest == digest  # the files never changed
        assert await found(client, "flag") == []
        refused = await client.call_tool("load_skill", {"name": "flag-check"})
        assert refused.is_error and "status is failing" in text(refused)
        tools = {t.name for t in (await client.list_tools()).tools}
        assert tools == {"search_skills", "load_skill", "record_outcome"}

    run(repo, body)


def test_mcp_refuses_to_start_without_a_usable_lock(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    make_skill(tmp_path)
    out = cli("mcp", "--repo", str(tmp_path))
    assert out.code == 2 and "skills.lock" in out.err


def test_start_up_of_other_commands_does_not_import_the_sdk(demo: Path) -> None:
    probe = ("import sys\nfrom skillctl.cli import main\n"
             "for argv in (['--version'], ['--repo', sys.argv[1], 'search', 'csv']):\n"
             "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
             "print(json.dumps(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.'))))")
    out = subprocess.run([sys.executable, "-c", "import json\n" + probe, str(demo)], capture_output=True,
                         text=True, timeout=60, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_load_skill_names_the_loaders_reason_for_a_lock_entry_without_a_folder(demo: Path) -> None:
    from skillctl.deliver.search import load_skill
    from skillctl.errors import NotLoadableError

    shutil.rmtree(demo / "skills" / "semver-bump")
    with pytest.raises(NotLoadableError, match=r"skill folder or SKILL\.md is missing"):
        load_skill(demo, "semver-bump")
    assert load_skill(demo, "csv-clean").name == "csv-clean"
