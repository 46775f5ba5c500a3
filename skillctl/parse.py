"""Read a SKILL.md folder into a ``Skill``.

Parsing is lenient about *encoding trivia* real clients accept (a UTF-8 BOM, CRLF line ends)
and strict about anything that makes the file unreadable: those raise ``InputError`` with a
stable ``SK0xx`` code and the line it happened on, so ``validate`` can report them and other
commands can refuse the skill. Rule checking (lengths, allowed fields, ...) is ``validate.py``'s
job; this module only records what is there and where.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from skillctl.errors import InputError
from skillctl.model import Check, Diagnostic, Frontmatter, Lifecycle, Pin, Severity, Skill
from skillctl.repo import SKILL_FILE
from skillctl.safeio import compose_bounded, read_regular

MAX_SKILL_BYTES = 2 * 1024 * 1024
"""Read cap for SKILL.md: a skill is instructions for a model, not a data file."""
MAX_FRONTMATTER_NODES = 20_000
"""Expanded YAML nodes a frontmatter (or skillctl.yaml) may have; real ones have dozens."""

_FENCE_RE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_ATTR_RE = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s}]+)""")


def read_capped(path: Path, limit: int = MAX_SKILL_BYTES) -> bytes:
    """Read at most *limit* bytes; a larger file is an error, not a slow read of 50 MB."""
    try:
        data = read_regular(path, limit)
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=path, code="SK001") from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path, code="SK008") from None
    if len(data) > limit:
        raise InputError(
            f"file is larger than {limit // 1024} KiB; refusing to read it (SKILL.md should be "
            "under ~5,000 tokens; move bulk content to references/)",
            path=path,
            code="SK004",
        )
    return data


def decode_text(data: bytes, path: Path) -> tuple[str, list[Diagnostic]]:
    """Bytes -> text with BOM and CRLF normalised; NUL bytes or bad UTF-8 are errors."""
    notes: list[Diagnostic] = []
    if not data.strip():
        raise InputError("file is empty", path=path, line=1, code="SK005")
    if b"\x00" in data[:8192]:
        raise InputError("file looks binary (contains NUL bytes)", path=path, code="SK003")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        notes.append(_note("SK015", path, 1, "file starts with a UTF-8 byte-order mark (accepted)"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=line,
            code="SK002",
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append(_note("SK016", path, 1, "file uses CRLF line endings (accepted)"))
    return text, notes


def _note(code: str, path: Path, line: int, message: str) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.info, path=str(path), line=line, message=message)


def split_frontmatter(text: str, path: Path) -> tuple[str, str, int]:
    """Return (yaml_text, body, body_first_line). The fence must be the very first line."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise InputError(
            "missing YAML frontmatter: SKILL.md must start with a '---' line", path=path, line=1,
            code="SK010",
        )
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise InputError(
        "unterminated frontmatter: no closing '---' line", path=path, line=1, code="SK011"
    )


def load_yaml_mapping(source: str, path: Path, line_offset: int) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse YAML that must be a mapping; refuse duplicate keys; return (data, key -> line).

    Key lines are recorded as dotted paths (``metadata.skillctl.ttl``, ``...pins[1]``) so
    diagnostics can point at the exact line. *line_offset* is the file line of YAML line 1.
    """
    loader = None  # compose_bounded disposes of its loader itself when composing fails
    try:
        loader, node = compose_bounded(source, path, line_offset, MAX_FRONTMATTER_NODES)
        if node is None:
            raise InputError("frontmatter is empty; expected a mapping", path=path,
                             line=line_offset, code="SK013")
        if not isinstance(node, yaml.MappingNode):
            raise InputError(
                f"frontmatter must be a mapping of fields, got a {_node_kind(node)}",
                path=path, line=node.start_mark.line + line_offset, code="SK013",
            )
        key_lines: dict[str, int] = {}
        _walk(node, "", key_lines, path, line_offset)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, path, line_offset) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", path=path, line=line_offset, code="SK012") from None
    except RecursionError:
        raise InputError("YAML nested too deeply", path=path, line=line_offset, code="SK012") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise InputError("frontmatter must be a mapping", path=path, line=line_offset, code="SK013")
    return data, key_lines


def _syntax_error(exc: yaml.MarkedYAMLError, path: Path, line_offset: int) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + line_offset if mark else line_offset
    problem = exc.problem or exc.context or "syntax error"
    return InputError(f"YAML syntax error: {problem}", path=path, line=line, code="SK012")


def _node_kind(node: yaml.Node) -> str:
    return {"ScalarNode": "scalar", "SequenceNode": "list"}.get(type(node).__name__, "value")


def _walk(node: yaml.Node, prefix: str, lines: dict[str, int], path: Path, offset: int) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            where = key_node.start_mark.line + offset
            if key in seen and key != "<<":
                raise InputError(f"duplicate key {key!r}", path=path, line=where, code="SK014")
            seen.add(key)
            dotted = f"{prefix}.{key}" if prefix else key
            lines.setdefault(dotted, where)
            _walk(value_node, dotted, lines, path, offset)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            dotted = f"{prefix}[{i}]"
            lines.setdefault(dotted, item.start_mark.line + offset)
            _walk(item, dotted, lines, path, offset)


def parse_attributes(info: str) -> tuple[str, dict[str, str]]:
    """``bash {check=x timeout=30}`` -> ("bash", {"check": "x", "timeout": "30"})."""
    language, _, rest = info.strip().partition(" ")
    if "{" in language:  # ```bash{check=x}
        language, _, tail = language.partition("{")
        rest = "{" + tail + " " + rest
    attrs: dict[str, str] = {}
    brace = rest.find("{")
    if brace != -1:
        inner = rest[brace + 1 : rest.rfind("}") if "}" in rest else len(rest)]
        for key, value in _ATTR_RE.findall(inner):
            attrs.setdefault(key, value.strip("\"'"))
    return language.strip().lower(), attrs


def extract_checks(body: str, body_line: int, path: Path | str = SKILL_FILE) -> tuple[list[Check], list[Diagnostic]]:
    """Collect the fenced blocks of the ``## Verification`` section as checks.

    Headings inside code fences are ignored, so a ``# comment`` in a bash block never ends the
    section. ``output {for=ID}`` blocks attach expected stdout to the check they name.
    """
    checks: list[Check] = []
    outputs: list[tuple[str | None, str, int]] = []
    diags: list[Diagnostic] = []
    in_section = False
    section_level = 0
    fence: tuple[str, int, str, int, list[str]] | None = None  # char, len, info, line, lines
    for offset, raw in enumerate(body.split("\n")):
        lineno = body_line + offset
        if fence is not None:
            m = _FENCE_RE.match(raw)
            char, length, info, start, buf = fence
            if m and m.group(2)[0] == char and len(m.group(2)) >= length and not m.group(3).strip():
                if in_section:
                    _collect_block(info, "\n".join(buf), start, checks, outputs)
                fence = None
            else:
                buf.append(raw)
            continue
        m = _FENCE_RE.match(raw)
        if m:
            fence = (m.group(2)[0], len(m.group(2)), m.group(3), lineno, [])
            continue
        h = _HEADING_RE.match(raw)
        if h:
            level, title = len(h.group(1)), (h.group(2) or "").strip().lower()
            if in_section and level <= section_level:
                in_section = False
            if title == "verification" and not in_section:
                in_section, section_level = True, level
    if fence is not None:
        diags.append(Diagnostic(code="SK230", severity=Severity.warning, path=str(path), line=fence[3],
                                message="code fence is never closed"))
    by_id = {c.id: c for c in checks if c.id}
    for target, text, line in outputs:
        if target is None:
            diags.append(Diagnostic(code="SK223", severity=Severity.error, path=str(path), line=line,
                                    message="output block must name its check: ```output {for=CHECK-ID}"))
        elif target not in by_id:
            diags.append(Diagnostic(code="SK223", severity=Severity.error, path=str(path), line=line,
                                    message=f"output block names unknown check {target!r}"))
        elif by_id[target].expected_output is not None:
            diags.append(Diagnostic(code="SK228", severity=Severity.error, path=str(path), line=line,
                                    message=f"check {target!r} already has an output block"))
        else:
            by_id[target].expected_output = text
    return checks, diags


def _collect_block(info: str, text: str, line: int, checks: list[Check],
                   outputs: list[tuple[str | None, str, int]]) -> None:
    language, attrs = parse_attributes(info)
    if not language:
        return  # an unlabelled block is illustration, not a check
    if language == "output":
        outputs.append((attrs.get("for"), text, line))
        return
    checks.append(Check(id=attrs.get("check"), language=language, attributes=attrs, code=text, line=line))


def lifecycle_from(metadata: Any, key_lines: dict[str, int]) -> Lifecycle | None:
    """Build the ``metadata.skillctl`` block from raw YAML, coercing scalars to strings.

    Wrongly-typed values are dropped here and reported by ``validate`` from the raw data.
    """
    if not isinstance(metadata, dict) or not isinstance(metadata.get("skillctl"), dict):
        return None
    raw = metadata["skillctl"]
    fields: dict[str, Any] = {}
    for key in ("version", "owner", "ttl", "origin", "trust"):
        value = raw.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            fields[key] = str(value)
    pins: list[Pin] = []
    if isinstance(raw.get("pins"), list):
        for i, item in enumerate(raw["pins"]):
            if isinstance(item, dict) and all(_scalar(item.get(k)) for k in ("datasource", "package", "version")):
                pins.append(Pin(datasource=str(item["datasource"]), package=str(item["package"]),
                                version=str(item["version"]),
                                line=key_lines.get(f"metadata.skillctl.pins[{i}]")))
    return Lifecycle(**fields, pins=pins)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def read_skill(folder: Path | str, *, root: Path | None = None) -> Skill:
    """Parse one skill folder. Raises ``InputError`` when SKILL.md cannot be read at all.

    With *root*, a SKILL.md (or folder) that is a symlink resolving outside *root* is refused:
    a repo must not be tricked into reading (and later executing) files from elsewhere.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError("path does not exist", path=folder, code="SK007")
    skill_md = folder / SKILL_FILE
    if not skill_md.exists():
        raise InputError("folder has no SKILL.md", path=folder, code="SK001")
    if root is not None and _inside(Path(os.path.abspath(folder)), Path(os.path.abspath(root))):
        # Only a path that lies in the repo can escape it through a symlink; a folder the user
        # named outside the repo is read as given.
        resolved_root = Path(root).resolve()
        for candidate in (folder, skill_md):
            target = candidate.resolve()
            if not _inside(target, resolved_root):
                raise InputError(f"symlink points outside the repository (to {target}); refused",
                                 path=candidate, code="SK006")
    text, notes = decode_text(read_capped(skill_md), skill_md)
    yaml_text, body, body_line = split_frontmatter(text, skill_md)
    data, key_lines = load_yaml_mapping(yaml_text, skill_md, 2)
    known = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
    fm = Frontmatter(
        name=data.get("name"), description=data.get("description"), license=data.get("license"),
        compatibility=data.get("compatibility"), metadata=data.get("metadata"),
        allowed_tools=data.get("allowed-tools"),
        extra={str(k): v for k, v in data.items() if k not in known},
    )
    checks, check_diags = extract_checks(body, body_line, skill_md)
    name = fm.name if isinstance(fm.name, str) and fm.name.strip() else folder.resolve().name
    return Skill(
        name=name, folder=folder, skill_md=skill_md, frontmatter=fm,
        lifecycle=lifecycle_from(fm.metadata, key_lines), body=body, body_line=body_line,
        checks=checks, key_lines=key_lines, diagnostics=notes + check_diags,
    )
