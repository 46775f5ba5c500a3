"""One output layer: every command's --format comes from report.FORMATS, --json is its alias."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import click
import pytest

from skillctl.cli import COMMANDS, PROTOCOL_COMMANDS
from skillctl.cli import cli as group
from skillctl.report import FORMATS

# Commands whose stdout is a wire protocol, not a report: `mcp` speaks JSON-RPC on stdout.


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - PROTOCOL_COMMANDS))
def test_every_command_offers_formats_from_the_registry(name):
    command = group.get_command(click.Context(group), name)
    assert command is not None
    fmt = next((p for p in command.params if p.name == "fmt"), None)
    assert fmt is not None, f"{name} has no --format"
    assert isinstance(fmt.type, click.Choice) and set(fmt.type.choices) <= set(FORMATS)
    assert "json" in fmt.type.choices


@pytest.mark.parametrize("args", [["list"], ["load"], ["show", "demo-skill"], ["prompt"]])
def test_json_flag_is_the_json_format(repo, cli, args):
    a = cli(*args, "--repo", str(repo), "--json")
    b = cli(*args, "--repo", str(repo), "--format", "json")
    c = cli("--json", *args, "--repo", str(repo))
    assert a.code == b.code == c.code
    assert json.loads(a.out) == json.loads(b.out) == json.loads(c.out)


def test_an_explicit_format_wins_over_the_group_json_flag(repo, cli):
    res = cli("--json", "validate", "--repo", str(repo), "--format", "sarif")
    assert json.loads(res.out)["version"] == "2.1.0"


def test_verify_junit_format_prints_one_testcase_per_check(repo, cli):
    res = cli("verify", "--repo", str(repo), "--format", "junit")
    assert res.code == 0
    suite = ET.fromstring(res.out)
    cases = suite.findall(".//testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("demo-skill", "says-hello")]


def test_unknown_format_is_bad_usage(repo, cli):
    res = cli("list", "--repo", str(repo), "--format", "sarif")
    assert res.code == 2 and "sarif" in res.err
