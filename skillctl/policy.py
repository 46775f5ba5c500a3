"""Trust tier × severity → block or warn.

Who wrote a skill decides how much benefit of the doubt it gets. Agent-written (synthesized)
and community skills have had no human review, so a medium finding already blocks them;
a team skill is blocked from high up; builtin skills only by critical findings. Inline
suppressions are honoured only where a human owns the content (builtin, team): otherwise a
poisoned skill could simply suppress its own findings. A repository may tighten or relax the
table in ``skillctl.yaml``::

    policy:
      default_trust: team          # tier for skills that do not declare metadata.skillctl.trust
      block_at: {team: medium}     # lowest severity that blocks, per tier
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skillctl.model import LockEntry, Skill
from skillctl.vocab import DEFAULT_TIER, SEVERITIES, TRUST_TIERS

if TYPE_CHECKING:
    from skillctl.config import RepoConfig

DEFAULT_BLOCK_AT = {"builtin": "critical", "team": "high", "community": "medium", "synthesized": "medium"}
DEFAULT_TRUST = DEFAULT_TIER
SELF_SUPPRESSING_TIERS = frozenset({"builtin", "team"})


class Policy:
    """The effective blocking table for one repository."""

    def __init__(self, block_at: dict[str, str] | None = None, default_trust: str = DEFAULT_TRUST) -> None:
        self.block_at = {**DEFAULT_BLOCK_AT, **(block_at or {})}
        self.default_trust = default_trust

    @classmethod
    def from_config(cls, config: RepoConfig | None = None) -> Policy:
        """``policy:`` of a RepoConfig (checked by its schema), or the defaults for None."""
        if config is None:
            return cls()
        return cls({str(k): str(v) for k, v in config.policy.block_at.items()}, config.policy.default_trust)

    def tier(self, skill: Skill | None) -> str:
        """The skill's declared tier; an undeclared or unknown one gets the repo default."""
        declared = skill.lifecycle.trust if skill is not None and skill.lifecycle else None
        return declared if declared in TRUST_TIERS else self.default_trust

    def blocks(self, severity: str, tier: str) -> bool:
        threshold = self.block_at.get(tier, "medium")
        if threshold == "never":
            return False
        return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)

    @staticmethod
    def honours_inline_suppressions(tier: str) -> bool:
        return tier in SELF_SUPPRESSING_TIERS


def approval_covers(entry: LockEntry | None, digest: str) -> bool:
    """Has a human approved exactly this content (so its blocking findings are accepted)?"""
    return bool(entry and entry.approval and entry.approval.digest and entry.approval.digest == digest)
