"""A real git skills repo with a base branch and a head branch, for ``skillctl review`` tests."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import git

from skillctl.init import init_repo

DEFAULT_CHECKS = {
    "says-hello": ("echo hello", "timeout=10", "hello"),
    "counts-words": ("printf 'a b c' | wc -w", "timeout=10", "3"),
}


def skill_md(name: str = "demo-skill", *, version: str | None = "1.0.0", ttl: str | None = "30d",
             trust: str = "team", pins: list[tuple[str, str, str]] | None = None, tools: str | None = None,
             checks: dict[str, tuple[str, str, str | None]] | None = None, body: str = "Say hello.\n",
             description: str = "Demo skill. Use when testing skillctl review.") -> str:
    """SKILL.md with a metadata.skillctl block and ``## Verification`` checks (id -> code, attrs, output)."""
    pins = [("tool", "python3", ">=3.10")] if pins is None else pins
    checks = DEFAULT_CHECKS if checks is None else checks
    life = ["metadata:", "  skillctl:"]
    if version:
        life.append(f"    version: {version}")
    life += ["    owner: tests"]
    if ttl:
        life.append(f"    ttl: {ttl}")
    life += ["    origin: human", f"    trust: {trust}"]
    if pins:
        life.append("    pins:")
        for ds, pkg, ver in pins:
            life += [f"      - datasource: {ds}", f"        package: {pkg}", f'        version: "{ver}"']
    front = [f"name: {name}", f"description: {description}", "license: MIT"]
    if tools:
        front.append(f"allowed-tools: {tools}")
    out = ["---", *front, *life, "---", "", f"# {name}", "", body.rstrip("\n"), "", "## Verification"]
    for cid, (code, attrs, output) in checks.items():
        out += [f"```bash {{check={cid} {attrs}}}".replace(" }", "}"), code, "```"]
        if output is not None:
            out += [f"```output {{for={cid}}}", output, "```"]
    return "\n".join(out) + "\n"


class SkillsRepo:
    """``main`` holds the base; ``write``/``remove``/``move`` + ``commit`` build the head on ``pr``."""

    def __init__(self, root: Path, top: Path | None = None) -> None:
        self.root = root
        (top or root).mkdir(parents=True, exist_ok=True)
        self.git = git.Repo.init(top or root)
        init_repo(root)
        with open(root / "skillctl.yaml", "a", encoding="utf-8") as fh:  # the repo vouches for its skills
            fh.write('\ntrust:\n  - {path: "skills/*", tier: team}\n')
        with self.git.config_writer() as cw:
            cw.set_value("user", "name", "Test")
            cw.set_value("user", "email", "test@example.invalid")
        self.git.git.checkout("-q", "-B", "main")

    def write(self, rel: str, content: str | bytes, mode: int | None = None) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content) if content.startswith("\n") else content, encoding="utf-8")
        if mode is not None:
            path.chmod(mode)
        return path

    def skill(self, name: str, folder: str | None = None, **kwargs) -> Path:
        return self.write(f"skills/{folder or name}/SKILL.md", skill_md(name, **kwargs))

    def remove(self, rel: str) -> None:
        path = self.root / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    def move(self, src: str, dst: str) -> None:
        (self.root / dst).parent.mkdir(parents=True, exist_ok=True)
        self.git.git.mv(src, dst)

    def commit(self, message: str = "change") -> str:
        self.git.git.add("-A")
        self.git.git.commit("-q", "--allow-empty", "-m", message)
        return self.git.head.commit.hexsha

    def branch(self, name: str = "pr") -> None:
        self.git.git.checkout("-q", "-b", name)
