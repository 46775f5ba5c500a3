"""``skillctl sync``: write the loadable skills into agent folders, remove demoted ones it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillctl.commands._common import common_options, echo_json, format_option

if TYPE_CHECKING:
    from skillctl.deliver.sync import SyncReport


@click.command("sync")
@click.argument("names", nargs=-1, metavar="[TARGET]...")
@click.option("--global", "global_", is_flag=True, help="Named targets mean the user folders (~/.claude/skills ...).")
@click.option("--target", "dirs", multiple=True, type=click.Path(), metavar="DIR", help="Any folder (repeatable).")
@click.option("--project", type=click.Path(file_okay=False), default=None,
              help="Project folder for project-scope targets (default: the cwd).")
@click.option("--link", is_flag=True, help="Symlink each skill to the repo instead of copying it.")
@click.option("--hermes-external", is_flag=True,
              help="For hermes: register a managed folder in skills.external_dirs instead of ~/.hermes/skills.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@format_option('text', 'json')
@common_options
def cmd(names: tuple[str, ...], global_: bool, dirs: tuple[str, ...], project: str | None, link: bool,
        hermes_external: bool, dry_run: bool, fmt: str, root: Path, as_json: bool) -> None:
    """Materialize the loadable skills (active, unchanged, unexpired, no blocking findings) into
    agent folders. TARGET is claude, codex (= agents), cursor, copilot, hermes or openclaw;
    without targets, sync.targets from skillctl.yaml is used. Folders skillctl did not write are
    never touched. Exit 0 in sync, 1 conflicts, 2 a target or the lock unusable."""
    from skillctl.config import load_config
    from skillctl.deliver.sync import run_sync
    from skillctl.deliver.targets import (
        ALIASES,
        Target,
        hermes_managed_dir,
        resolve_named,
        targets_from_config,
    )

    proj = Path(project).resolve() if project else Path.cwd()
    config = load_config(root)
    targets: list[Target] = []
    for name in names:
        if hermes_external and ALIASES.get(name, name) == "hermes":
            targets.append(Target("hermes (external_dirs)", hermes_managed_dir(), ("hermes",), hermes_external=True))
        else:
            targets.append(resolve_named(name, scope="global" if global_ else "project", project=proj))
    targets.extend(Target(d, Path(d).absolute()) for d in dirs)
    if not targets:
        targets = targets_from_config(config.sync, project=proj, where=config.path)
    mode = "link" if link else config.sync.mode
    report = run_sync(root, targets, mode=mode, dry_run=dry_run, project=proj)
    if fmt == "json":
        echo_json(report.to_json())
        raise SystemExit(report.exit_code)
    show(report)
    raise SystemExit(report.exit_code)


def show(report: SyncReport) -> None:
    verb = {"write": "would write", "update": "would update", "remove": "would remove"} if report.dry_run else {}
    for t in report.targets:
        head = f"{t.target.label}: {t.target.path}"
        if t.error:
            click.echo(f"{head}\n  error: {t.error}")
            continue
        counts = ", ".join(f"{t.count(k)} {k}" for k in ("write", "update", "keep", "remove", "conflict", "error")
                           if t.count(k))
        click.echo(f"{head} ({counts or 'nothing to do'})")
        for a in t.actions:
            if a.kind in ("keep", "forget"):
                continue
            click.echo(f"  {verb.get(a.kind, a.kind):<13} {a.name}" + (f"  ({a.reason})" if a.reason else ""))
        for note in t.notes:
            click.echo(f"  note: {note}")
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
