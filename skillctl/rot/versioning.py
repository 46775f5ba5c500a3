"""Version parsing, ordering and ranges for pin rot.

Registries disagree about what a version is. PyPI follows PEP 440 (compared with
``packaging``); npm, Helm, GitHub tags and local tools are semver-style (``v1.2.3``,
``jq-1.7.1``, ``2.0.0-rc.1``); Docker tags are numbers plus a variant (``3.12-slim``) and a tag
is only comparable with tags of the same variant and shape, or ``3.12-slim`` would be reported
"behind" ``3.13.1-alpine``. Ranges let a skill say what it really needs instead of pretending
to pin: ``>=3.10``, ``^1.2``, ``~1.2``, ``1.x``, ``>=1 <2``, ``a || b``, ``*``, and any PEP 440
specifier (``~=1.4``, ``==2.*``) for PyPI.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SEMVER_RE = re.compile(
    r"^\s*(?:[A-Za-z][A-Za-z0-9_.]*?[-_/@])?[=v]?(\d+(?:\.\d+){0,3})((?:[-+]|(?=[A-Za-z]))[0-9A-Za-z.+-]*)?\s*$"
)
_DOCKER_RE = re.compile(r"^(\d+(?:\.\d+){0,3})((?:[-_+]|(?=[A-Za-z]))[0-9A-Za-z._+-]*)?$")
_DOCKER_PRE_RE = re.compile(r"^[-_.]?(rc|alpha|beta|pre|dev|a|b)\d*", re.I)
_WILDCARD_RE = re.compile(r"^[=v]?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$")
_TOKEN_RE = re.compile(r"\s*(\^|~>|~=|~|>=|<=|>|<|==|!=|=)?\s*([^\s,<>=^~!][^\s,]*)")
CALVER_YEAR = 1990
_ANY = frozenset({"", "*", "x", "X", "latest", "any"})


def scheme_for(datasource: str) -> str:
    """``pep440`` for PyPI, ``docker`` for Docker tags, ``semver`` for everything else."""
    return {"pypi": "pep440", "docker": "docker"}.get(datasource, "semver")


@dataclass(frozen=True)
class Version:
    """A parsed version: *key* orders versions of one scheme; *release* is the numeric part."""

    text: str
    key: Any
    release: tuple[int, ...]
    prerelease: bool
    variant: str = ""
    scheme: str = "semver"

    def comparable(self, other: Version) -> bool:
        """Docker tags compare only within one variant and one shape (``3`` tracks, ``3.12.1`` pins)."""
        if self.scheme != "docker" and other.scheme != "docker":
            return True
        return self.variant == other.variant and len(self.release) == len(other.release)


def _pad(release: tuple[int, ...], size: int = 4) -> tuple[int, ...]:
    return release + (0,) * (size - len(release)) if len(release) < size else release


def _pre_key(pre: str) -> tuple[tuple[int, Any], ...]:
    parts = [p for p in re.split(r"[.-]", pre) if p]
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts)


@functools.lru_cache(maxsize=65536)
def parse_version(text: str, scheme: str) -> Version | None:
    """Parse *text* under *scheme*; None when it is not a version (``latest``, ``bookworm``).

    Cached: an audit parses every release of every package, and histories overlap a lot.
    """
    text = str(text).strip()
    if scheme == "pep440":
        from packaging.version import InvalidVersion
        from packaging.version import Version as Pep440

        try:
            v = Pep440(text)
        except InvalidVersion:
            return None
        return Version(text, v, tuple(v.release), v.is_prerelease or v.is_devrelease, scheme="pep440")
    if scheme == "docker":
        m = _DOCKER_RE.match(text)
        if not m:
            return None
        release = tuple(int(p) for p in m.group(1).split("."))
        variant = m.group(2) or ""
        return Version(text, (_pad(release),), release, bool(_DOCKER_PRE_RE.match(variant)), variant, "docker")
    m = _SEMVER_RE.match(text)
    if not m:
        return None
    release = tuple(int(p) for p in m.group(1).split("."))
    rest = m.group(2) or ""
    pre = rest.split("+", 1)[0].lstrip("-.")
    key = (_pad(release), 0 if pre else 1, _pre_key(pre))
    return Version(text, key, release, bool(pre))


def behind(pinned: Version, latest: Version) -> str | None:
    """How far *pinned* trails *latest*: ``major``, ``minor``, ``patch`` or None (not behind).

    Calendar-versioned projects (``2024.9.11`` -> ``2026.1.2``: regex, certifi, pip) bump the
    year without promising a break, so a new year counts as ``minor``, not ``major``.
    """
    if not latest.key > pinned.key:
        return None
    a, b = _pad(pinned.release, 3), _pad(latest.release, 3)
    if b[0] > a[0] and not (a[0] >= CALVER_YEAR and b[0] >= CALVER_YEAR):
        return "major"
    if b[0] > a[0]:
        return "minor"
    if b[:2] > a[:2]:
        return "minor"
    return "patch"


def _equal_to(exact: Version) -> Callable[[Version], bool]:
    return lambda v: v.comparable(exact) and v.key == exact.key


def _same_key(target: Version) -> Callable[[Version], bool]:
    return lambda v: v.key == target.key

@dataclass(frozen=True)
class Constraint:
    """What a pin accepts. *exact* is set when the pin names a single version."""

    text: str
    exact: Version | None
    test: Callable[[Version], bool]
    prerelease: bool = False
    """The pin itself names a pre-release, so pre-releases count as candidates."""

    def allows(self, version: Version) -> bool:
        return self.test(version)


def parse_constraint(text: str, scheme: str) -> Constraint | None:
    """Parse a pin's ``version`` field; None when it cannot be understood."""
    text = str(text).strip()
    if text in _ANY:
        return Constraint(text, None, lambda v: True)
    exact = parse_version(text, scheme)
    if exact is not None and not any(ch in text for ch in "<>=^~*| ,") and not (
        scheme != "docker" and re.search(r"\.[xX*]", text)
    ):
        return Constraint(text, exact, _equal_to(exact), exact.prerelease)
    if scheme == "pep440" and not re.search(r"[\^|]|~(?!=)", text):
        pep = _pep440_specifier(text)
        if pep is not None:
            return pep
    alternatives = []
    for alt in text.split("||"):
        tests = _parse_comparators(alt, scheme)
        if tests is None:
            return None
        alternatives.append(tests)
    pre = any(
        (v := parse_version(raw, scheme)) is not None and v.prerelease
        for _, raw in _TOKEN_RE.findall(text.replace("||", " "))
    )
    return Constraint(text, None, lambda v: any(all(t(v) for t in alt) for alt in alternatives), pre)


def _pep440_specifier(text: str) -> Constraint | None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        return None
    if not len(spec):
        return None
    return Constraint(text, None, lambda v: spec.contains(v.key, prereleases=True), bool(spec.prereleases))


def _bound(release: tuple[int, ...], scheme: str) -> Version:
    parsed = parse_version(".".join(str(n) for n in _pad(release, 3)), scheme)
    assert parsed is not None  # digits joined by dots parse under every scheme
    return parsed


def _range(lo: tuple[int, ...], hi: tuple[int, ...] | None, scheme: str) -> list[Callable[[Version], bool]]:
    low = _bound(lo, scheme)
    tests: list[Callable[[Version], bool]] = [lambda v: v.key >= low.key]
    if hi is not None:
        high = _bound(hi, scheme)
        tests.append(lambda v: v.key < high.key)
    return tests


def _caret(nums: tuple[int, ...]) -> tuple[int, ...]:
    """``^1.2.3`` < 2.0.0, ``^0.2.3`` < 0.3.0, ``^0.0.3`` < 0.0.4: the first non-zero part is fixed."""
    for i, n in enumerate(nums):
        if n != 0 or i == len(nums) - 1:
            return (*nums[:i], n + 1)
    return (nums[0] + 1,)


def _tilde(nums: tuple[int, ...], pep440_compatible: bool) -> tuple[int, ...]:
    """``~1.2.3`` < 1.3.0 and ``~1`` < 2; PEP 440 ``~=1.4.2`` < 1.5 and ``~=1.4`` < 2."""
    if pep440_compatible:
        keep = max(len(nums) - 1, 1)
        return (*nums[: keep - 1], nums[keep - 1] + 1)
    keep = 2 if len(nums) >= 2 else 1
    return (*nums[: keep - 1], nums[keep - 1] + 1)


def _parse_comparators(text: str, scheme: str) -> list[Callable[[Version], bool]] | None:
    tokens = _TOKEN_RE.findall(text.strip())
    if not tokens:
        return None
    tests: list[Callable[[Version], bool]] = []
    for op, raw in tokens:
        wild = _WILDCARD_RE.match(raw)
        if wild is None:
            full = parse_version(raw, scheme)
            if full is None or op in ("^", "~", "~>", "~="):
                return None
            tests.append(_COMPARE.get(op or "==", _COMPARE["=="])(full))
            continue
        parts = [p for p in wild.groups() if p is not None]
        nums = tuple(int(p) for p in parts if p.isdigit())
        partial = len(nums) < len(parts) or len(nums) < 3
        if op in ("", "=", "==") and partial:
            tests += _range(nums, (*nums[:-1], nums[-1] + 1), scheme)
        elif op in ("", "=", "=="):
            target = _bound(nums, scheme)
            tests.append(_same_key(target))
        elif op == "^":
            tests += _range(nums, _caret(nums), scheme)
        elif op in ("~", "~>", "~="):
            tests += _range(nums, _tilde(nums, op == "~="), scheme)
        else:
            ref = _bound(nums, scheme)
            tests.append(_COMPARE[op](ref))
    return tests


_COMPARE: dict[str, Callable[[Version], Callable[[Version], bool]]] = {
    "==": lambda r: lambda v: v.key == r.key,
    "=": lambda r: lambda v: v.key == r.key,
    ">=": lambda r: lambda v: v.key >= r.key,
    ">": lambda r: lambda v: v.key > r.key,
    "<=": lambda r: lambda v: v.key <= r.key,
    "<": lambda r: lambda v: v.key < r.key,
    "!=": lambda r: lambda v: v.key != r.key,
}


def newest(versions: list[Version]) -> Version | None:
    return max(versions, key=lambda v: v.key, default=None)
