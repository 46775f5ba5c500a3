"""The bundled skills_repo audited over real HTTP against benchmarks/fake_registry.py (serving
its registry snapshot), then offline from the cache. It must explain why requests-retry-session
is stale, and the recorded documents must cover every pin the bundled skills declare."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKILLCTL = [sys.executable, "-m", "skillctl"]


@pytest.fixture
def fake_registry():
    proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "fake_registry.py"), "--port", "0",
                             str(ROOT / "skills_repo" / "registry-snapshot")], stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("fake registry serving"), first
        env = dict(os.environ)
        for _ in range(6):
            key, value = proc.stdout.readline().strip().removeprefix("export ").split("=", 1)
            env[key] = value
        yield proc, env
    finally:
        proc.kill()
        proc.wait()


def test_bundled_repo_explains_its_stale_skill_offline(tmp_path, fake_registry):
    proc, env = fake_registry
    repo = tmp_path / "skills_repo"
    shutil.copytree(ROOT / "skills_repo", repo, ignore=shutil.ignore_patterns(".skillctl"))
    config = repo / "skillctl.yaml"  # ask the registries over HTTP, not the snapshot file transport
    config.write_text("".join(ln for ln in config.read_text().splitlines(True) if "registry_snapshot" not in ln))
    online = subprocess.run([*SKILLCTL, "audit", "--repo", str(repo), "--json"], env=env, capture_output=True,
                            text=True, timeout=60)
    data = json.loads(online.stdout)
    bad = ("missing", "unreachable", "error")
    problems = [(s["name"], p["package"], f["kind"], f["message"]) for s in data["skills"] for p in s["pins"]
                for f in p["findings"] if p["datasource"] != "tool" and f["kind"] in bad]
    assert problems == [], "skills_repo/registry-snapshot must cover every pin in skills_repo"
    proc.kill()
    proc.wait()
    offline = subprocess.run([*SKILLCTL, "audit", "--repo", str(repo), "--offline"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert offline.returncode == 1, offline.stderr
    lines = offline.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("requests-retry-session"))
    block = "\n".join(lines[start:start + 4])
    assert "urllib3 1.26.5" in block and "major update available: 1.26.5 -> 2.5.0 [cache]  <- stale" in block
    assert "unreachable" not in offline.stdout.split("\n\n")[0].replace("0 unreachable", "")
