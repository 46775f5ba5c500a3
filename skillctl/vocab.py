"""skillctl's vocabulary, defined once: statuses, trust tiers, severities, datasources, durations.

Every module that names one of these imports it from here, so a status or a severity scale
cannot be spelled two ways, and a duration means the same thing in a skill's ``ttl``, in
``skillctl.yaml`` and on the command line (``--every 30m``). This module imports nothing of
skillctl's, so any module, however low, can use it without an import cycle.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

#: A skill name as the spec spells it: 1-64 characters of a-z, 0-9 and single inner hyphens.
#: Use ``is_skill_name``: it applies ``fullmatch``, because ``$`` in ``match`` would also accept a
#: name ending in a newline (YAML block scalars produce exactly that).
SKILL_NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SKILL_NAME_MAX = 64


def is_skill_name(name: object) -> bool:
    """Whether *name* is a spec-conforming skill name (also the only names skillctl writes)."""
    return isinstance(name, str) and len(name) <= SKILL_NAME_MAX and SKILL_NAME_RE.fullmatch(name) is not None


#: Lifecycle states of a lock entry (docs/DESIGN.md, "The lifecycle").
STATUSES = ("draft", "active", "stale", "failing", "quarantined", "retired")
Status = Literal["draft", "active", "stale", "failing", "quarantined", "retired"]

#: Trust tiers, most trusted first. A skill may lower its tier, never raise it.
TRUST_TIERS = ("builtin", "team", "community", "synthesized")
#: The same tiers, least trusted first: ``TRUST_ORDER.index(t)`` grows with trust.
TRUST_ORDER = tuple(reversed(TRUST_TIERS))
DEFAULT_TIER = "community"

#: Where a skill came from.
ORIGINS = ("human", "synthesized", "imported")

#: Scan finding severities, lowest first: ``SEVERITIES.index(s)`` grows with severity.
SEVERITIES = ("info", "low", "medium", "high", "critical")
FindingSeverity = Literal["info", "low", "medium", "high", "critical"]

#: Validation diagnostic levels (``error`` fails validate; the others inform).
DIAGNOSTIC_LEVELS = ("error", "warning", "info")

#: Pin datasources, one resolver module each under ``skillctl.rot.registries``.
DATASOURCES = ("pypi", "npm", "github-releases", "docker", "helm", "tool", "url")

#: Pin findings (``rot``): what a registry says about a pinned version.
ROT_KINDS = ("ok", "outdated", "yanked", "deprecated", "abandoned", "missing", "unreachable", "error")
#: How far behind an outdated pin is.
ROT_LEVELS = ("patch", "minor", "major", "changed")
#: What ``policy.stale_on`` may name: any finding but ok and unreachable (a registry that does
#: not answer never demotes a skill), or a level of outdatedness.
STALE_ON_TOKENS = tuple(k for k in ROT_KINDS if k not in ("ok", "unreachable")) + ROT_LEVELS
DEFAULT_STALE_ON = ("yanked", "deprecated", "missing", "major")

#: Every output format a command can offer; each command declares the subset that applies.
FORMATS = {
    "text": "human-readable report (default for most commands)",
    "json": "one JSON document (also: --json)",
    "sarif": "SARIF 2.1.0 for GitHub code scanning",
    "junit": "JUnit XML for CI test reports",
    "markdown": "a Markdown report, e.g. a pull-request comment",
    "github": "GitHub Actions workflow-command annotations",
}

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: Longer than this is not a duration anyone means (and would overflow datetime arithmetic).
MAX_DURATION = timedelta(days=100 * 366)
_DURATION_RE = re.compile(r"^\s*(\d{1,12})\s*([smhdw])\s*$")


def parse_duration(value: object) -> timedelta | None:
    """``90s``, ``30m``, ``12h``, ``30d``, ``2w`` -> timedelta; None when not a positive duration.

    One parser for TTLs, cache lifetimes, ``--every`` and ``--lead``. Values past
    ``MAX_DURATION`` are refused here rather than overflowing later, when an expiry date is
    computed from them.
    """
    if not isinstance(value, str):
        return None
    m = _DURATION_RE.match(value)
    if not m:
        return None
    seconds = int(m.group(1)) * DURATION_UNITS[m.group(2)]
    if seconds <= 0 or seconds > MAX_DURATION.total_seconds():
        return None
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact spelling of *delta* in the units ``parse_duration`` reads."""
    seconds = int(delta.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % DURATION_UNITS[unit] == 0:
            return f"{seconds // DURATION_UNITS[unit]}{unit}"
    return f"{seconds}s"


def severity_at_least(severity: str, threshold: str) -> bool:
    """Whether *severity* reaches *threshold* on the ``SEVERITIES`` scale."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
