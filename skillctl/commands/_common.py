"""Options and helpers every subcommand shares, so users learn them once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from skillctl.errors import InputError
from skillctl.repo import find_repo_root

F = TypeVar("F", bound=Callable[..., Any])
_EXPLICIT = click.core.ParameterSource.COMMANDLINE


def repo_option(func: F) -> F:
    """``--repo PATH`` on the subcommand too (``skillctl validate --repo x`` reads naturally)."""
    return click.option("--repo", "repo", type=click.Path(file_okay=False), default=None,
                        help="Skills repo root (default: nearest skills.lock upwards, else cwd).")(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, default=False,
                        help="Machine-readable JSON output.")(func)


def format_option(*names: str, default: str = "text") -> Callable[[F], F]:
    """``--format`` with the formats of ``skillctl.report.FORMATS`` that apply to a command.

    ``--json`` (on the command or the group) is an alias of ``--format json``, so users learn
    one option name; a command's body only ever looks at ``fmt``.
    """
    from skillctl.vocab import FORMATS

    unknown = [n for n in names if n not in FORMATS]
    if unknown or default not in names:
        raise ValueError(f"unknown output format(s) {unknown} or default {default!r}")  # a bug in a command
    listing = "; ".join(f"{n}: {FORMATS[n]}" for n in names)
    return click.option("--format", "fmt", type=click.Choice(names), default=default, show_default=True,
                        help=f"Output format ({listing}).")


def common_options(func: F) -> F:
    """--repo and --json, merged with the group-level flags of the same names.

    With a ``--format`` option (``format_option``), ``--json`` selects ``json`` unless another
    format was asked for explicitly.
    """

    @repo_option
    @json_option
    @click.pass_context
    @functools.wraps(func)
    def wrapper(ctx: click.Context, *args: Any, repo: str | None, as_json: bool, **kwargs: Any) -> Any:
        obj = ctx.find_root().obj or {}
        kwargs["root"] = resolve_repo(repo or obj.get("repo"))
        kwargs["as_json"] = as_json or bool(obj.get("json"))
        if kwargs["as_json"] and "fmt" in kwargs and ctx.get_parameter_source("fmt") is not _EXPLICIT:
            kwargs["fmt"] = "json"
        return ctx.invoke(func, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def resolve_repo(repo: str | None) -> Path:
    if repo is None:
        return find_repo_root()
    path = Path(repo)
    if not path.is_dir():
        raise InputError("repository path does not exist or is not a directory", path=path, code="SK007")
    return path.resolve()


def echo_json(data: Any) -> None:
    from skillctl.report import to_json

    click.echo(to_json(data))


def share_json_with_subcommands(ctx: click.Context, fmt: str, as_json: bool) -> None:
    """For a command group: ``skillctl GROUP --json SUB`` means ``--json`` on every subcommand."""
    if fmt == "json" or as_json:
        ctx.ensure_object(dict)["json"] = True
