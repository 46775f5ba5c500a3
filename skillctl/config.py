"""``skillctl.yaml``: one typed schema for the repository's defaults and policy.

Every block of the file is a pydantic model below, so each key is checked in one place and an
error names the file, the line and the key path (``skillctl.yaml:7: SC012 policy.block_at.team:
...``), the way pre-commit's ``clientlib`` reports its config. Unknown keys are not errors (a
newer skillctl may have written them) but they are never silently kept either: each becomes a
warning with a did-you-mean, collected in ``RepoConfig.warnings`` and printed once by the CLI.

pydantic costs ~100 ms to import, so nothing on the ``validate`` fast path imports this module.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from skillctl.errors import ConfigError, InputError
from skillctl.safeio import NOT_REGULAR, YAML_BUDGET
from skillctl.vocab import DEFAULT_STALE_ON, parse_duration

CONFIG_NAME = "skillctl.yaml"
CONFIG_MAX_BYTES = 1024 * 1024

# values people write that mean something else; the error says why they are refused
_VALUE_HINTS = {"unreachable": "an unreachable registry never demotes a skill"}


def _duration(value: str) -> str:
    if parse_duration(value) is None:
        raise ValueError(f"{value!r} is not a duration like 30m, 12h, 30d or 2w")
    return value


def _days_or_duration(value: object) -> timedelta:
    """``540`` (days), ``540d``, ``12w`` or ``0``: how the rot thresholds have always been written."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected days (540) or a duration (540d, 12w)")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("must not be negative")
        return timedelta(days=value)
    if value in ("0", "0d"):
        return timedelta(0)
    delta = parse_duration(value)
    if delta is None:
        raise ValueError(f"expected days (540) or a duration (540d, 12w), got {value!r}")
    return delta


Duration = Annotated[str, AfterValidator(_duration)]
DaysOrDuration = Annotated[timedelta, BeforeValidator(_days_or_duration)]
Tier = Literal["builtin", "team", "community", "synthesized"]
BlockLevel = Literal["info", "low", "medium", "high", "critical", "never"]
# the same values as vocab.STALE_ON_TOKENS (a test keeps them equal): pydantic needs a Literal
RotToken = Literal["outdated", "yanked", "deprecated", "abandoned", "missing", "error",
                   "patch", "minor", "major", "changed"]


class Section(BaseModel):
    """A block of skillctl.yaml: strict types, unknown keys reported (not kept) by ``load_config``."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class PolicyConfig(Section):
    """How trust tiers map scan severities to blocks, and which rot findings make a skill stale."""

    default_trust: Tier = "community"  # vocab.DEFAULT_TIER
    block_at: dict[Tier, BlockLevel] = Field(default_factory=dict)
    stale_on: list[RotToken] = Field(default_factory=lambda: list(DEFAULT_STALE_ON))  # type: ignore[arg-type]
    abandoned_after: DaysOrDuration = timedelta(days=540)
    min_release_age: DaysOrDuration = timedelta(0)


class AuditConfig(Section):
    """Registry client settings for ``audit`` and ``schedule``."""

    timeout: Annotated[float, Field(ge=0.1, le=300)] = 10.0
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    cache_ttl: Duration = "6h"


class Suppression(Section):
    """A reviewed finding accepted repo-wide; the reason is shown in every report."""

    rule: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(min_length=1, pattern=r"\S")]
    path: str | None = None
    skill: str | None = None


class TrustGrant(Section):
    """``trust: [{path: GLOB, tier: TIER}]``: the repo vouches for the skills under a path.

    The first rule whose glob matches a skill folder (repo-relative) decides; a skill's own
    ``metadata.skillctl.trust`` can only lower the tier (``policy.effective_tier``).
    """

    path: Annotated[str, Field(min_length=1, pattern=r"[^/\s]")]
    tier: Tier


class RepoConfig(Section):
    """The whole file. Absent keys take these defaults; ``path`` and ``warnings`` are not read."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=False)

    ttl: Duration = "30d"
    timeout: Annotated[float, Field(gt=0, le=3600)] = 60.0
    retries: Annotated[int, Field(ge=0, le=10)] = 1
    require_sandbox: bool = False
    registries: dict[str, str] = Field(default_factory=dict)
    registry_snapshot: str | None = None
    rules: list[str] = Field(default_factory=list)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    suppress: list[Suppression] = Field(default_factory=list)
    trust: list[TrustGrant] = Field(default_factory=list)
    require_signed: bool = False
    allowed_signers: Annotated[str, Field(min_length=1)] = "allowed_signers"
    path: Path | None = Field(default=None, exclude=True)
    warnings: list[str] = Field(default_factory=list, exclude=True)


_SCHEMA_ONLY = {"path", "warnings"}
_pending_warnings: dict[str, list[str]] = {}


def load_config(root: Path) -> RepoConfig:
    """Read ``skillctl.yaml`` at *root* (absent or empty -> defaults); a wrong value is a ConfigError."""
    from skillctl.parse import decode_text, load_yaml_mapping, read_capped

    path = Path(root) / CONFIG_NAME
    if not path.exists() and not path.is_symlink():  # a FIFO or a dangling link is an error, not absent
        return RepoConfig()
    try:
        text, _ = decode_text(read_capped(path, CONFIG_MAX_BYTES), path)
    except InputError as exc:
        if exc.code == "SK005":  # an empty file is just "all defaults"
            return RepoConfig(path=path)
        code = exc.code if exc.code == NOT_REGULAR else "SC011"
        raise ConfigError(exc.message, path=path, line=exc.line, code=code) from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        return RepoConfig(path=path)
    try:
        data, lines = load_yaml_mapping(text, path, 1)
    except InputError as exc:
        code = exc.code if exc.code in (YAML_BUDGET, NOT_REGULAR) else "SC011"
        raise ConfigError(exc.message, path=path, line=exc.line, code=code) from None
    return parse_config(data, lines, path)


def parse_config(data: dict[str, Any], lines: dict[str, int], path: Path | None = None) -> RepoConfig:
    """Validate an already-parsed mapping; *lines* maps dotted key paths to file lines."""
    data = _normalise_keys(data)
    warnings = [_unknown_warning(key, where, lines, path) for key, where in _unknown_keys(RepoConfig, data, "")]
    try:
        config = RepoConfig.model_validate({k: v for k, v in data.items() if k not in _SCHEMA_ONLY})
    except ValidationError as exc:
        raise _config_error(exc, lines, path) from None
    config.path, config.warnings = path, warnings
    if warnings and path is not None:
        _pending_warnings[str(path)] = warnings
    return config


def drain_warnings() -> list[str]:
    """Warnings of every config loaded so far, each file once (the CLI prints them on stderr)."""
    out = [w for ws in _pending_warnings.values() for w in ws]
    _pending_warnings.clear()
    return out


def _normalise_keys(value: Any) -> Any:
    """``require-sandbox`` and ``require_sandbox`` are the same key, at any depth."""
    if isinstance(value, dict):
        return {str(k).replace("-", "_") if isinstance(k, str) else k: _normalise_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_keys(v) for v in value]
    return value


def _unknown_keys(model: type[BaseModel], data: Any, prefix: str) -> list[tuple[str, list[str]]]:
    """(dotted key, the keys it could have meant) for every key the schema does not know."""
    if not isinstance(data, dict):
        return []
    known = [k for k, f in model.model_fields.items() if not f.exclude]  # path/warnings are not keys
    out: list[tuple[str, list[str]]] = []
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in known:
            out.append((dotted, known))
            continue
        sub = _submodel(model.model_fields[key].annotation)
        if sub is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                out.extend(_unknown_keys(sub, item, f"{dotted}[{i}]"))
        else:
            out.extend(_unknown_keys(sub, value, dotted))
    return out


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _unknown_warning(key: str, known: list[str], lines: dict[str, int], path: Path | None) -> str:
    leaf = key.rsplit(".", 1)[-1].split("[")[0]
    close = difflib.get_close_matches(leaf, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known here: {', '.join(known)})"
    where = f"{path}:{_line_of(key, lines)}: " if path is not None else ""
    return f"{where}SC013 warning: unknown key {key!r} is ignored{hint}"


def _line_of(dotted: str, lines: dict[str, int]) -> int:
    """The line of *dotted*, or of its nearest parent that has one."""
    probe = dotted
    while probe:
        for variant in (probe, probe.replace("_", "-")):
            if variant in lines:
                return lines[variant]
        if "[" in probe and probe.endswith("]"):
            probe = probe[: probe.rfind("[")]
        elif "." in probe:
            probe = probe.rsplit(".", 1)[0]
        else:
            break
    return 1


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "union", "int", "str", "literal")) or str(part) == "[key]":
            continue  # pydantic's names for branches of a union or validator, not keys of the file
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_WORDS = {"list_type": "a list", "dict_type": "a mapping", "string_type": "a string", "int_type": "an integer",
               "float_type": "a number", "bool_type": "true or false", "model_type": "a mapping"}


def _yaml_kind(value: object) -> str:
    kinds = {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", int: "a number",
             float: "a number", type(None): "nothing"}
    return kinds.get(type(value), type(value).__name__)


def _config_error(exc: ValidationError, lines: dict[str, int], path: Path | None) -> ConfigError:
    first = exc.errors()[0]
    key = _dotted(tuple(first["loc"]))
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "literal_error" and "expected" in first.get("ctx", {}):
        message = f"expected one of {first['ctx']['expected']}, got {first.get('input')!r}"
        hint = _VALUE_HINTS.get(str(first.get("input")))
        message += f" ({hint})" if hint else ""
    elif first["type"] == "missing":
        message = f"a {key.rsplit('.', 1)[-1]} is required"
    elif first["type"] in _TYPE_WORDS:
        message = f"expected {_TYPE_WORDS[first['type']]}, got {_yaml_kind(first.get('input'))}"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return ConfigError(f"{key}: {message}{suffix}", path=path, line=_line_of(key, lines), code="SC012")
