"""Run a real agent headless against the fake model and pull the skill list out of its prompt.

Each agent gets a scrubbed environment (``env -i`` style: only PATH, HOME, the fake model's
address and a dummy key), a temporary HOME, and a timeout, so nothing from the machine running
the tests leaks in and nothing the agent does leaks out. What the agent told the model is read
back from the recorded request, in the agent's own wording, so a test sees exactly what a
user's model would see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.agents.fakemodel import FakeModel, Recorded
from tests.agents.install import Agent

TIMEOUT = 120


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    requests: list[Recorded]


def _base_env(home: Path, agent: Agent) -> dict[str, str]:
    node_dir = os.path.dirname(shutil.which("node") or "/usr/bin/node")
    path = os.pathsep.join(dict.fromkeys([str(agent.binary.parent), node_dir, "/usr/local/bin", "/usr/bin", "/bin"]))
    env = {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1"}
    if os.geteuid() == 0:
        env["IS_SANDBOX"] = "1"
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path, fm: FakeModel, timeout: float) -> Run:
    before = len(fm.requests)
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = -9
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    return Run(rc, out, err, fm.requests[before:])


def run_claude(agent: Agent, fm: FakeModel, home: Path, cwd: Path, prompt: str = "hello",
               timeout: float = TIMEOUT) -> Run:
    env = _base_env(home, agent)
    env.update({"ANTHROPIC_BASE_URL": fm.url, "ANTHROPIC_API_KEY": "sk-ant-fake",
                "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})
    cmd = [str(agent.binary), "-p", prompt, "--output-format", "json", "--dangerously-skip-permissions"]
    return _run(cmd, env, cwd, fm, timeout)


def run_codex(agent: Agent, fm: FakeModel, home: Path, cwd: Path, prompt: str = "hello",
              timeout: float = TIMEOUT) -> Run:
    env = _base_env(home, agent)
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        'model = "fake-model"\nmodel_provider = "fake"\n\n[model_providers.fake]\nname = "fake"\n'
        f'base_url = "{fm.url}/v1"\nwire_api = "responses"\nenv_key = "FAKE_API_KEY"\n')
    env.update({"CODEX_HOME": str(codex_home), "FAKE_API_KEY": "fake"})
    cmd = [str(agent.binary), "exec", "--skip-git-repo-check", prompt]
    return _run(cmd, env, cwd, fm, timeout)


def run_hermes(agent: Agent, fm: FakeModel, home: Path, cwd: Path, prompt: str = "hello",
               timeout: float = TIMEOUT, hermes_home: Path | None = None) -> Run:
    env = _base_env(home, agent)
    hh = hermes_home or home / ".hermes"
    hh.mkdir(parents=True, exist_ok=True)
    config = hh / "config.yaml"
    import yaml

    data: dict[str, Any] = {}
    if config.is_file():
        data = yaml.safe_load(config.read_text()) or {}
    data["model"] = {"provider": "custom", "default": "fake-model", "base_url": f"{fm.url}/v1", "api_key": "x"}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    env.update({"HERMES_HOME": str(hh)})
    cmd = [str(agent.binary), "-z", prompt]
    return _run(cmd, env, cwd, fm, timeout)


# -- reading the skill list back out of the prompt ------------------------------------------------

def _texts(value: Any) -> list[str]:
    """Every string inside a request body, in order (prompts nest strings in content blocks)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    return []


CLAUDE_HEADER = "The following skills are available for use with the Skill tool:"


def claude_skills(requests: list[Recorded]) -> set[str] | None:
    """Skill names Claude Code listed (``- name: description`` lines after its header)."""
    for rec in requests:
        for text in _texts(rec.body):
            if CLAUDE_HEADER in text:
                tail = text.split(CLAUDE_HEADER, 1)[1]
                return {m.group(1) for m in re.finditer(r"^- ([^:\n]+):", tail, re.M)}
    return None


def codex_skills(requests: list[Recorded]) -> set[str] | None:
    """Skill names under Codex's ``### Available skills`` heading (``- name: … (file: …)``)."""
    for rec in requests:
        for text in _texts(rec.body):
            if "### Available skills" in text:
                tail = text.split("### Available skills", 1)[1]
                tail = re.split(r"\n#{1,3} ", tail, maxsplit=1)[0]
                return {m.group(1) for m in re.finditer(r"^- ([^:\n]+):.*\(file: ", tail, re.M)}
    return None


def hermes_skills(requests: list[Recorded]) -> set[str] | None:
    """Skill names inside Hermes' ``<available_skills>`` block (grouped by category)."""
    for rec in requests:
        for text in _texts(rec.body):
            if "<available_skills>" in text:
                block = text.split("<available_skills>", 1)[1].split("</available_skills>", 1)[0]
                return {m.group(1) for m in re.finditer(r"^\s*- ([A-Za-z0-9_.-]+):", block, re.M)}
    return None


def sees_none(requests: list[Recorded], names: set[str]) -> bool:
    """True when none of ``names`` occurs anywhere in what the agent sent."""
    blob = "\n".join(t for rec in requests for t in _texts(rec.body))
    return not any(re.search(rf"\b{re.escape(n)}\b", blob) for n in names)
