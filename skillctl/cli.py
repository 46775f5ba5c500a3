"""The ``skillctl`` command line: a thin click layer over the library.

Subcommands live one per module in ``skillctl/commands/`` and are imported only when invoked,
so ``skillctl --version`` does not pay for gitpython, httpx or sqlite. ``main`` is where user
errors become ``path:line: CODE message`` + exit 2, and anything else is reported as a bug.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys
import threading
import traceback

import click

from skillctl import __version__
from skillctl.errors import SkillctlError

COMMANDS: dict[str, str] = {
    "init": "Create a skills repo: git, empty lock, .gitignore, skillctl.yaml.",
    "validate": "Check skill folders against the Agent Skills spec and skillctl's metadata.",
    "scan": "Scan skills for malicious or risky content (rule packs + analyzers).",
    "verify": "Run skills' verification checks in a sandbox and record verdicts.",
    "audit": "Rot audit: expired TTLs and outdated, yanked or missing pinned dependencies.",
    "schedule": "Re-verify and audit what is due, apply transitions, commit the lock.",
    "review": "Review a skill diff between two git refs (PR comment, JSON, annotations).",
    "list": "List skills with version, status and expiry from the lock.",
    "show": "Show one skill's lock entry and checks.",
    "load": "List the skills an agent may load now (fail-closed), with --explain.",
    "prompt": "Print the <available_skills> block of loadable skills.",
    "approve": "Lift a quarantine after human review, recording who, when and why.",
}


class LazyGroup(click.Group):
    """Import a subcommand module only when that subcommand runs (or help lists it)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._module_exists(name)]

    @staticmethod
    def _module_exists(name: str) -> bool:
        return importlib.util.find_spec(f"skillctl.commands.{name}") is not None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not self._module_exists(cmd_name):
            return None
        module = importlib.import_module(f"skillctl.commands.{cmd_name}")
        return module.cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="skillctl")
@click.option("--repo", "repo", type=click.Path(file_okay=False), default=None,
              help="Skills repo root (default: walk up from the cwd to skills.lock, else the cwd).")
@click.option("--json", "as_json", is_flag=True, default=False, help="Machine-readable JSON output.")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, as_json: bool) -> None:
    """skillctl keeps agent skills honest: validate, scan, verify, audit and load SKILL.md folders."""
    ctx.ensure_object(dict)
    ctx.obj["repo"] = repo
    ctx.obj["json"] = as_json


def main(argv: list[str] | None = None) -> None:
    """Console entry point: map errors to exit codes, never show a traceback for user errors."""
    if threading.current_thread() is not threading.main_thread():
        _main(argv)
    # SIGTERM unwinds like Ctrl-C, so ``finally`` blocks (scratch dirs, lock guards) run.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> None:
    try:
        try:
            cli.main(args=argv, prog_name="skillctl", standalone_mode=False)
        finally:
            _print_config_warnings()
    except SkillctlError as exc:
        click.echo(f"skillctl: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("skillctl: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("skillctl: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # a bug, not the user's fault: say so and show how to report it
        click.echo(f"skillctl {__version__}: internal error (this is a bug, please report it): "
                   f"{type(exc).__name__}: {exc}", err=True)
        if os.environ.get("SKILLCTL_DEBUG"):
            traceback.print_exc()
        else:
            click.echo("Set SKILLCTL_DEBUG=1 to see the traceback.", err=True)
        sys.exit(70)
    sys.exit(0)


def _print_config_warnings() -> None:
    """Unknown keys in skillctl.yaml, once per file, on stderr (only if a command read the config)."""
    config = sys.modules.get("skillctl.config")
    if config is not None:
        for warning in config.drain_warnings():
            click.echo(f"skillctl: {warning}", err=True)
