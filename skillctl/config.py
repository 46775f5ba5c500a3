"""``skillctl.yaml``: repository defaults and policy, validated with file:line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from skillctl.errors import ConfigError, InputError
from skillctl.model import parse_ttl

CONFIG_NAME = "skillctl.yaml"


class RepoConfig(BaseModel):
    """Repo-wide defaults. Unknown top-level keys are kept in ``extra`` for forward compatibility."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    ttl: str = "30d"
    timeout: float = 60.0
    retries: int = 1
    require_sandbox: bool = False
    registries: dict[str, str] = Field(default_factory=dict)
    rules: list[str] = Field(default_factory=list)
    policy: dict[str, Any] = Field(default_factory=dict)
    suppress: list[Any] = Field(default_factory=list)
    trust: list[Any] = Field(default_factory=list)
    require_signed: bool = False
    allowed_signers: str = "allowed_signers"
    extra: dict[str, Any] = Field(default_factory=dict)
    path: Path | None = None


_TYPES: dict[str, tuple[type, ...]] = {
    "ttl": (str,), "timeout": (int, float), "retries": (int,), "require_sandbox": (bool,),
    "registries": (dict,), "rules": (list,), "policy": (dict,), "suppress": (list,),
    "trust": (list,), "require_signed": (bool,), "allowed_signers": (str,),
}


def load_config(root: Path) -> RepoConfig:
    """Read ``skillctl.yaml`` at *root* (absent -> defaults). Wrong types name the key and line."""
    from skillctl.parse import decode_text, load_yaml_mapping, read_capped

    path = Path(root) / CONFIG_NAME
    if not path.is_file():
        return RepoConfig()
    try:
        text, _ = decode_text(read_capped(path, 1024 * 1024), path)
    except InputError as exc:
        if exc.code == "SK005":  # an empty config is just "all defaults"
            return RepoConfig(path=path)
        raise ConfigError(exc.message, path=path, line=exc.line, code="SC011") from None
    try:
        data, lines = load_yaml_mapping(text, path, 1)
    except InputError as exc:
        raise ConfigError(exc.message, path=path, line=exc.line, code="SC011") from None
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key).replace("-", "_")
        if key not in _TYPES:
            extra[key] = value
            continue
        types = _TYPES[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ConfigError(f"{key}: expected {' or '.join(t.__name__ for t in types)}, got "
                              f"{type(value).__name__}", path=path, line=lines.get(key), code="SC012")
        known[key] = value
    if "ttl" in known and parse_ttl(known["ttl"]) is None:
        raise ConfigError(f"ttl: {known['ttl']!r} is not a duration like 30d, 12h or 2w", path=path,
                          line=lines.get("ttl"), code="SC012")
    if "timeout" in known and not 0 < known["timeout"] <= 3600:
        raise ConfigError("timeout: must be between 0 and 3600 seconds", path=path,
                          line=lines.get("timeout"), code="SC012")
    if "trust" in known:
        from skillctl.policy import trust_rules

        trust_rules(RepoConfig(trust=known["trust"], path=path))  # bad globs/tiers fail here, with the file
    if "registries" in known:
        known["registries"] = {str(k): str(v) for k, v in known["registries"].items()}
    return RepoConfig(**known, extra=extra, path=path)
