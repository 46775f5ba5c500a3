"""One exception hierarchy for everything skillctl reports to a user.

A ``SkillctlError`` means "the input is wrong or unreadable": the CLI prints it as
``path:line: CODE message`` and exits 2. Any other exception escaping a command is a bug, and
the CLI says so instead of pretending it was the user's fault.
"""

from __future__ import annotations

from pathlib import Path


class SkillctlError(Exception):
    """Base class: a user-facing error with a stable code and an optional location."""

    code = "SC000"
    exit_code = 2

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        if code is not None:
            self.code = code

    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def __str__(self) -> str:
        loc = self.location()
        prefix = f"{loc}: " if loc else ""
        return f"{prefix}{self.code} {self.message}"


class InputError(SkillctlError):
    """A file or argument that cannot be read or understood (bad SKILL.md, bad path...)."""

    code = "SC001"


class ConfigError(SkillctlError):
    """``skillctl.yaml`` is malformed."""

    code = "SC010"


class LockError(SkillctlError):
    """``skills.lock`` is corrupt, of an unknown version, or cannot be written safely."""

    code = "SC020"


class GitError(SkillctlError):
    """A git operation failed: unknown ref, not a repository, dirty index..."""

    code = "SC030"


class SandboxError(SkillctlError):
    """The requested isolation is not available (e.g. ``--require-sandbox`` without bwrap)."""

    code = "SC040"


class RegistryError(SkillctlError):
    """A registry answered something that cannot be interpreted."""

    code = "SC050"


class NotLoadableError(SkillctlError):
    """A named skill may not be handed to an agent now; the message carries the loader's reason."""

    code = "SC060"
