"""Shared fixtures: real skill folders, real git repos, and the real CLI entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from skillctl.cli import main

# Real SKILL.md collections kept beside the checkout (../shared/corpora), or wherever
# SKILLCTL_CORPORA points; tests that need them skip with the path they looked at.
CORPORA = Path(os.environ.get("SKILLCTL_CORPORA") or Path(__file__).resolve().parents[2] / "shared" / "corpora")

WORKTREE = Path(__file__).resolve().parents[1]
# The distribution's python, which a test runs skillctl with as ``nobody`` (the venv's may sit
# under /root, which nobody cannot enter).
SYSTEM_PY = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.access(p, os.X_OK)), None)
needs_nobody = pytest.mark.skipif(shutil.which("setpriv") is None or SYSTEM_PY is None,
                                  reason="needs setpriv and a system python")


def forks_alone(request: pytest.FixtureRequest) -> bool:
    """Run this test again in a pytest of its own, single threaded, and tell the caller whether it
    is that run (True: go on) or the outer one (False: the inner run passed, return).

    skillctl forks workers only from a single-threaded process (``deliver.folders.can_fork``): a
    pytest-xdist worker has threads, so a test of the forked path runs where it can fork.
    """
    import sys

    if os.environ.get("SKILLCTL_TEST_ALONE") == request.node.nodeid:
        from skillctl.deliver.folders import can_fork

        assert can_fork(), "the test's own pytest must be able to fork workers"
        return True
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                           "-p", "no:randomly", request.node.nodeid],
                          cwd=WORKTREE, env={**os.environ, "SKILLCTL_TEST_ALONE": request.node.nodeid},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return False


def run_as_nobody(program: str, home: Path) -> dict:
    """Run *program* (printing one JSON line) as ``nobody`` with the system python: skillctl as a normal user.

    Skips when that python cannot import skillctl's dependencies; a failing run fails the test.
    """
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "-i", "PATH=/usr/bin:/bin",
         f"HOME={home}", f"PYTHONPATH={WORKTREE}:{sysconfig.get_paths()['purelib']}", SYSTEM_PY, "-c", program],
        capture_output=True, text=True, timeout=120)
    if "ModuleNotFoundError" in proc.stderr or "ImportError" in proc.stderr:
        pytest.skip(f"the system python cannot import skillctl's dependencies: {proc.stderr[-300:]}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(autouse=True)
def isolated_machine(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs as a fresh user: its own HOME, XDG dirs and an empty global git config.

    Without this a developer's ``commit.gpgsign=true``, a global hooks path or their own
    ``~/.claude/skills`` would change what the tests see.
    """
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"),
                     ("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = skillctl tests\n\temail = tests@example.invalid\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "SKILLCTL_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    return home


def skill_text(name: str = "demo-skill", description: str = "Demo skill. Use when testing skillctl.",
               lifecycle: str | None = "default", body: str | None = None, extra: str = "") -> str:
    """A SKILL.md with an optional metadata.skillctl block and a passing check."""
    if lifecycle == "default":
        lifecycle = textwrap.dedent("""\
            metadata:
              skillctl:
                version: 1.0.0
                owner: tests
                ttl: 30d
                origin: human
                trust: team
                pins:
                  - datasource: tool
                    package: python3
                    version: ">=3.10"
            """)
    if body is None:
        body = textwrap.dedent("""\
            # Demo

            Say hello.

            ## Verification
            ```bash {check=says-hello timeout=10}
            echo hello
            ```
            ```output {for=says-hello}
            hello
            ```
            """)
    fm = f"---\nname: {name}\ndescription: {description}\nlicense: MIT\n{extra}{lifecycle or ''}---\n"
    return fm + body


def make_skill(root: Path, name: str = "demo-skill", text: str | None = None, **kwargs) -> Path:
    folder = root / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(text if text is not None else skill_text(name, **kwargs), encoding="utf-8")
    return folder


def grant(root: Path, glob: str, tier: str) -> None:
    """The repo vouches for the skills under *glob* at *tier* (``trust:`` in skillctl.yaml)."""
    path = root / "skillctl.yaml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if "\ntrust:\n" not in "\n" + text:
        text += "\ntrust:\n"
    path.write_text(text + f'  - {{path: "{glob}", tier: {tier}}}\n', encoding="utf-8")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the real entry point (error mapping included) and capture what a user would see."""

    def run(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Result(code, out, err)

    return run


@pytest.fixture
def settled_at_once(monkeypatch) -> None:
    """File times vouch for content as soon as they are written (``repo.RACY_NS`` = 0).

    For tests of a cache's reuse logic, which otherwise would have to wait out the window in
    which a file just written is read again every time (tests/test_racy_stamps.py tests that).
    """
    import skillctl.repo

    monkeypatch.setattr(skillctl.repo, "RACY_NS", 0)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An initialised skills repo (git, lock, config) with one committed skill."""
    import git

    from skillctl.init import init_repo

    root = tmp_path / "repo"
    init_repo(root)
    grant(root, "skills/*", "team")
    make_skill(root)
    r = git.Repo(root)
    with r.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.invalid")
    r.git.add("-A")
    r.git.commit("-m", "initial")
    return root


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under *root* with its bytes (to prove a command wrote nothing)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts}
