"""Hermes Agent's ``skills.external_dirs``: a managed folder Hermes reads without skillctl
writing into the user's own ``~/.hermes/skills`` (where Hermes also keeps skills it writes).

The config is the user's file: it is read with a safe loader, only ``skills.external_dirs`` is
touched, every other key is kept, and the new text is written atomically with the old mode. A
config that does not parse, or whose ``skills`` is not a mapping, is refused rather than
"repaired".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from skillctl.errors import InputError
from skillctl.lock import atomic_write

MAX_CONFIG_BYTES = 4 * 1024 * 1024


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    if path.is_dir():
        raise InputError("Hermes config is a directory", path=path, code="SC064")
    try:
        raw = path.read_bytes()[: MAX_CONFIG_BYTES + 1]
        if len(raw) > MAX_CONFIG_BYTES:
            raise InputError("Hermes config is implausibly large", path=path, code="SC064")
        data = yaml.safe_load(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read Hermes config: {exc}", path=path, code="SC064") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("Hermes config is not a mapping; left untouched", path=path, code="SC064")
    return data


def read_external_dirs(path: Path) -> list[Path]:
    data = _load(path)
    skills = data.get("skills")
    dirs = skills.get("external_dirs") if isinstance(skills, dict) else None
    if isinstance(dirs, str):
        dirs = [dirs]
    if not isinstance(dirs, list):
        return []
    return [Path(os.path.expanduser(str(d))) for d in dirs if isinstance(d, (str, os.PathLike))]


def register_external_dir(path: Path, folder: Path, *, dry_run: bool = False) -> bool:
    """Add *folder* to ``skills.external_dirs`` in Hermes' config; False when already there."""
    data = _load(path)
    skills = data.setdefault("skills", {})
    if skills is None:
        skills = data["skills"] = {}
    if not isinstance(skills, dict):
        raise InputError("Hermes config: 'skills' is not a mapping; left untouched", path=path, code="SC064")
    dirs = skills.get("external_dirs")
    if dirs is None:
        dirs = []
    elif isinstance(dirs, str):
        dirs = [dirs]
    elif not isinstance(dirs, list):
        raise InputError("Hermes config: skills.external_dirs is not a list; left untouched", path=path,
                         code="SC064")
    want = folder.resolve() if folder.exists() else folder
    for d in dirs:
        p = Path(os.path.expanduser(str(d)))
        if p == folder or (p.exists() and p.resolve() == want):
            return False
    if dry_run:
        return True
    skills["external_dirs"] = [*dirs, str(folder)]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return True
