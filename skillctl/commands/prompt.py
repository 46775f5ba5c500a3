"""``skillctl prompt``: the ``<available_skills>`` block for an agent's system prompt."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skillctl.commands._common import common_options, echo_json, format_option

if TYPE_CHECKING:
    from skillctl.loader import LoadedSkill

_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def available_skills_xml(skills: Iterable[LoadedSkill]) -> str:
    """Name, description and SKILL.md location of each skill, escaped so no skill text can
    close the block or inject markup into the prompt."""
    from xml.sax.saxutils import escape

    def text(value: str) -> str:
        return escape(_NOT_XML.sub("", value))

    lines = ["<available_skills>"]
    for s in skills:
        lines += ["<skill>", f"<name>{text(s.name)}</name>", f"<description>{text(s.description)}</description>",
                  f"<location>{text(str(s.location))}</location>", "</skill>"]
    lines.append("</available_skills>")
    return "\n".join(lines)


@click.command("prompt")
@format_option('text', 'json')
@common_options
def cmd(fmt: str, root: Path, as_json: bool) -> None:
    """Print the <available_skills> block of loadable skills only (fail-closed: exit 2 without a lock)."""
    from skillctl.loader import load_skills

    skills = load_skills(root)
    if fmt == "json":
        echo_json([{"name": s.name, "description": s.description, "location": str(s.location)} for s in skills])
    else:
        click.echo(available_skills_xml(skills))
