"""Schema and structure rules for skill folders, as diagnostics with stable codes.

Two modes. ``strict`` is the Agent Skills spec exactly. The default lenient mode is what real
clients accept: a missing ``name`` falls back to the folder name, unknown fields and a
name/folder mismatch are warnings. Files that cannot be read at all (SK0xx) are always errors
and make ``validate`` exit 2; rule violations make it exit 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.model import (
    CHECK_ATTRIBUTES,
    CHECK_LANGUAGES,
    DATASOURCES,
    ORIGINS,
    SPEC_FIELDS,
    TRUST_TIERS,
    Diagnostic,
    Severity,
    Skill,
    parse_ttl,
)
from skillctl.parse import read_skill
from skillctl.repo import discover_skills
from skillctl.safeio import NOT_REGULAR, special_files
from skillctl.vocab import SKILL_NAME_RE

SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-.]+)?$")
CHECK_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RANGE_RE = re.compile(r"^(?:[<>=!~^]=?|==|\*|[vV]?\d)")
LIFECYCLE_KEYS = ("version", "owner", "ttl", "origin", "trust", "pins")
MAX_BODY_LINES = 500
MAX_BODY_TOKENS = 5000
MAX_CHECKS = 200
"""Checks per skill: each one is a process to start; 5,000 of them turn verify into a stall."""


class _Report:
    """Collects diagnostics for one SKILL.md with the mode's severities."""

    def __init__(self, skill: Skill, strict: bool) -> None:
        self.skill, self.strict, self.items = skill, strict, list(skill.diagnostics)
        self.path = str(skill.skill_md)

    def add(self, code: str, severity: Severity, message: str, key: str | None = None,
            line: int | None = None) -> None:
        if line is None and key is not None:
            line = self.skill.key_lines.get(key)
        self.items.append(Diagnostic(code=code, severity=severity, path=self.path, line=line or 1,
                                     message=message))

    def err(self, code: str, message: str, key: str | None = None, line: int | None = None) -> None:
        self.add(code, Severity.error, message, key, line)

    def lenient_warn(self, code: str, message: str, key: str | None = None) -> None:
        """An error under --strict, a warning for what real clients tolerate."""
        self.add(code, Severity.error if self.strict else Severity.warning, message, key)


def validate_skill(skill: Skill, *, strict: bool = False) -> list[Diagnostic]:
    """All diagnostics for a parsed skill."""
    r = _Report(skill, strict)
    _check_name(r)
    _check_description(r)
    _check_optional_fields(r)
    _check_metadata(r)
    _check_body(r)
    _check_lifecycle(r)
    _check_checks(r)
    return r.items


def _check_name(r: _Report) -> None:
    name = r.skill.frontmatter.name
    folder = r.skill.folder.resolve().name
    if name is None or (isinstance(name, str) and not name.strip()):
        r.lenient_warn("SK100", f"missing required field 'name' (using the folder name {folder!r})",
                       "name" if name is not None else None)
        return
    if not isinstance(name, str):
        r.err("SK100", f"name must be a string, got {type(name).__name__}", "name")
        return
    if len(name) > 64:
        r.err("SK101", f"name is {len(name)} characters; the limit is 64", "name")
    if not name.isascii():
        r.err("SK103", f"name {name!r} contains non-ASCII characters; use a-z, 0-9 and hyphens", "name")
    elif name != name.lower():
        r.err("SK102", f"name {name!r} must be lowercase (try {name.lower()!r})", "name")
    elif not SKILL_NAME_RE.fullmatch(name):
        r.err("SK103", f"name {name!r} may only contain a-z, 0-9 and single hyphens, not at the start "
              "or end", "name")
    if name != folder:
        r.lenient_warn("SK104", f"name {name!r} does not match its folder {folder!r}", "name")


def _check_description(r: _Report) -> None:
    desc = r.skill.frontmatter.description
    if desc is None:
        r.err("SK110", "missing required field 'description' (say what the skill does and when to use it)")
    elif not isinstance(desc, str):
        r.err("SK112", f"description must be a string, got {type(desc).__name__}", "description")
    elif not desc.strip():
        r.err("SK110", "description is empty", "description")
    elif len(desc) > 1024:
        r.err("SK111", f"description is {len(desc)} characters; the limit is 1024", "description")


def _check_optional_fields(r: _Report) -> None:
    fm = r.skill.frontmatter
    if fm.license is not None and not isinstance(fm.license, str):
        r.err("SK126", "license must be a string", "license")
    if fm.compatibility is not None:
        if not isinstance(fm.compatibility, str):
            r.err("SK120", "compatibility must be a string", "compatibility")
        elif len(fm.compatibility) > 500:
            r.err("SK120", f"compatibility is {len(fm.compatibility)} characters; the limit is 500",
                  "compatibility")
    if fm.allowed_tools is not None and not isinstance(fm.allowed_tools, str):
        r.lenient_warn("SK125", "allowed-tools must be a space-separated string", "allowed-tools")
    for key in fm.extra:
        r.lenient_warn("SK121", f"unknown top-level field {key!r} (the spec allows only "
                       f"{', '.join(SPEC_FIELDS)}; put extensions under metadata)", key)


def _check_metadata(r: _Report) -> None:
    meta = r.skill.frontmatter.metadata
    if meta is None:
        return
    if not isinstance(meta, dict):
        r.err("SK122", "metadata must be a mapping", "metadata")
        return
    for key, value in meta.items():
        dotted = f"metadata.{key}"
        if isinstance(value, dict):
            r.add("SK124", Severity.info, f"metadata.{key} is a vendor namespace (mapping); accepted", dotted)
        elif not isinstance(value, str) and r.strict:
            r.err("SK123", f"metadata.{key} must be a string (the spec's metadata is string to string)",
                  dotted)


def _check_body(r: _Report) -> None:
    body = r.skill.body
    lines = body.count("\n") + 1
    if lines > MAX_BODY_LINES:
        r.add("SK130", Severity.warning, f"body is {lines} lines; keep SKILL.md under {MAX_BODY_LINES} "
              "lines and move detail to references/", line=r.skill.body_line)
    tokens = len(body) // 4
    if tokens > MAX_BODY_TOKENS:
        r.add("SK131", Severity.warning, f"body is about {tokens} tokens; keep it under ~{MAX_BODY_TOKENS}",
              line=r.skill.body_line)


def _check_lifecycle(r: _Report) -> None:
    meta = r.skill.frontmatter.metadata
    if not isinstance(meta, dict) or "skillctl" not in meta:
        return
    raw = meta["skillctl"]
    base = "metadata.skillctl"
    if not isinstance(raw, dict):
        r.err("SK200", "metadata.skillctl must be a mapping", base)
        return
    for key in raw:
        if key not in LIFECYCLE_KEYS:
            r.err("SK205", f"unknown key {key!r} in metadata.skillctl (known: {', '.join(LIFECYCLE_KEYS)})",
                  f"{base}.{key}")
    if "version" in raw and not (isinstance(raw["version"], str) and SEMVER_RE.match(raw["version"])):
        r.err("SK202", f"version {raw['version']!r} is not semver like 1.2.0 (quote it in YAML)",
              f"{base}.version")
    if "ttl" in raw and parse_ttl(raw["ttl"]) is None:
        r.err("SK201", f"ttl {raw['ttl']!r} is not a duration like 12h, 30d or 8w", f"{base}.ttl")
    for key, allowed in (("origin", ORIGINS), ("trust", TRUST_TIERS)):
        if key in raw and raw[key] not in allowed:
            r.err("SK203" if key == "origin" else "SK204",
                  f"{key} {raw[key]!r} must be one of {', '.join(allowed)}", f"{base}.{key}")
    if "owner" in raw and not isinstance(raw["owner"], str):
        r.err("SK206", "owner must be a string", f"{base}.owner")
    if "pins" in raw:
        _check_pins(r, raw["pins"], f"{base}.pins")


def _check_pins(r: _Report, pins: Any, key: str) -> None:
    if not isinstance(pins, list):
        r.err("SK210", "pins must be a list of {datasource, package, version}", key)
        return
    for i, pin in enumerate(pins):
        where = f"{key}[{i}]"
        if not isinstance(pin, dict):
            r.err("SK210", f"pin #{i + 1} must be a mapping", where)
            continue
        unknown = set(pin) - {"datasource", "package", "version"}
        if unknown:
            r.err("SK214", f"pin #{i + 1} has unknown keys: {', '.join(sorted(map(str, unknown)))}", where)
        ds = pin.get("datasource")
        if ds not in DATASOURCES:
            r.err("SK211", f"pin #{i + 1}: datasource {ds!r} must be one of {', '.join(DATASOURCES)}", where)
        if not isinstance(pin.get("package"), str) or not pin["package"].strip():
            r.err("SK212", f"pin #{i + 1}: package is required", where)
        version = pin.get("version")
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            r.err("SK213", f"pin #{i + 1}: version {version!r} must be a quoted string", where)
        elif not isinstance(version, str) or not version.strip():
            r.err("SK213", f"pin #{i + 1}: version (an exact version or a range) is required", where)
        elif ds == "pypi" and not _pep440_ok(version):
            r.err("SK213", f"pin #{i + 1}: {version!r} is not a PEP 440 version or specifier", where)
        elif ds != "url" and not RANGE_RE.match(version) and ds not in ("docker", "github-releases"):
            r.err("SK213", f"pin #{i + 1}: {version!r} is not a version or range", where)


def _pep440_ok(text: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
        return True
    except InvalidVersion:
        pass
    try:
        SpecifierSet(text)
        return True
    except InvalidSpecifier:
        return text.strip() == "*"


def _check_checks(r: _Report) -> None:
    meta = r.skill.frontmatter.metadata
    managed = isinstance(meta, dict) and isinstance(meta.get("skillctl"), dict)
    seen: set[str] = set()
    if len(r.skill.checks) > MAX_CHECKS:
        r.err("SK231", f"{len(r.skill.checks)} checks in ## Verification; at most {MAX_CHECKS} run per skill "
              "(split the skill, or fold checks together)", line=r.skill.checks[MAX_CHECKS].line)
    for check in r.skill.checks:
        if check.id is None and not managed:
            continue  # a skill skillctl does not manage may show commands under "Verification"
        if check.id is None:
            r.err("SK220", f"{check.language} block in ## Verification has no id: add {{check=NAME}}",
                  line=check.line)
        elif not CHECK_ID_RE.match(check.id):
            r.err("SK229", f"check id {check.id!r} must be 1-64 letters, digits, '-', '_' or '.'",
                  line=check.line)
        elif check.id in seen:
            r.err("SK221", f"duplicate check id {check.id!r}", line=check.line)
        else:
            seen.add(check.id)
        for attr in check.attributes:
            if attr not in CHECK_ATTRIBUTES:
                r.err("SK222", f"unknown check attribute {attr!r} (known: {', '.join(CHECK_ATTRIBUTES)})",
                      line=check.line)
        if "timeout" in check.attributes:
            try:
                timeout = float(check.attributes["timeout"])
                bad = not 0 < timeout <= 3600
            except ValueError:
                bad = True
            if bad:
                r.err("SK224", f"timeout {check.attributes['timeout']!r} must be a number of seconds "
                      "between 0 and 3600", line=check.line)
        if check.attributes.get("network", "false").lower() not in ("true", "false"):
            r.err("SK225", "network must be true or false", line=check.line)
        if check.language not in CHECK_LANGUAGES:
            r.add("SK226", Severity.warning, f"check language {check.language!r} is not supported "
                  f"(supported: {', '.join(CHECK_LANGUAGES)}); it will not run", line=check.line)
    if managed and not r.skill.checks:
        r.add("SK227", Severity.warning, "no checks in a ## Verification section: nothing can prove this "
              "skill still works", line=r.skill.body_line)


Parsed = tuple[Path, Skill | None, InputError | None]


def validate_paths(paths: Iterable[Path], *, strict: bool = False, root: Path | None = None,
                   parsed: list[Parsed] | None = None) -> list[Diagnostic]:
    """Validate skill folders or trees. Unreadable files become error diagnostics (SK0xx).

    With *parsed*, each (folder, skill or None, error or None) is appended to it, so a caller
    that also scans does not read and parse every SKILL.md a second time.
    """
    out: list[Diagnostic] = []
    for path in paths:
        path = Path(path)
        try:
            folders = discover_skills(path)
        except InputError as exc:
            out.append(error_diagnostic(exc))
            continue
        if not folders:
            out.append(Diagnostic(code="SK001", severity=Severity.error, path=str(path),
                                  message="no SKILL.md found in this folder or below"))
        for folder in folders:
            out.extend(validate_folder(folder, strict=strict, root=root, parsed=parsed))
    return out


def validate_folder(folder: Path, *, strict: bool = False, root: Path | None = None,
                    parsed: list[Parsed] | None = None) -> list[Diagnostic]:
    try:
        skill = read_skill(folder, root=root)
    except InputError as exc:
        if parsed is not None:
            parsed.append((folder, None, exc))
        return [error_diagnostic(exc)]
    if parsed is not None:
        parsed.append((folder, skill, None))
    try:
        unreadable = [Diagnostic(code=NOT_REGULAR, severity=Severity.error, path=str(path), line=None,
                                 message=f"is {kind}; only regular files and folders are read")
                      for path, kind in special_files(folder)]
    except InputError as exc:  # SK020 / SK008: a tree too deep or unlistable is this skill's error
        unreadable = [error_diagnostic(exc)]
    return unreadable + validate_skill(skill, strict=strict)


def error_diagnostic(exc: InputError) -> Diagnostic:
    return Diagnostic(code=exc.code, severity=Severity.error, path=exc.path or "", line=exc.line,
                      message=exc.message)


MISSING_PATH = "SK007"


def names_missing_path(diag: Diagnostic) -> bool:
    """A path the user named does not exist: skillctl cannot do its job (exit 2).

    Everything else, a SKILL.md that cannot be read or parsed included, is a finding about the
    skills (exit 1), as ruff and ESLint treat a file with a syntax error: one broken skill among
    thousands must not hide what was found in the others.
    """
    return diag.severity is Severity.error and diag.code == MISSING_PATH


def sarif(diags: list[Diagnostic], root: Path | None = None) -> dict[str, Any]:
    """Validation diagnostics as a SARIF log (rule = diagnostic code)."""
    from skillctl.report import SarifResult, SarifRule, sarif_log

    rules = [SarifRule(id=d.code, description=d.message.split(":")[0], level=d.severity.value) for d in diags]
    results = [SarifResult(rule_id=d.code, level=d.severity.value, message=d.message, path=d.path, line=d.line)
               for d in diags]
    return sarif_log("skillctl-validate", rules, results, root=root)
