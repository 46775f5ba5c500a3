"""Trust policy: which tier a skill gets, and what that tier lets it do.

Who vouches for a skill decides how much benefit of the doubt it gets. Agent-written
(synthesized) and community skills have had no human review, so a medium finding already
blocks them; a team skill is blocked from high up; builtin skills only by critical findings.
Inline suppressions are honoured only where a human owns the content (builtin, team), and
only untrusted tiers are refused checks that hold host secrets *and* the network.

The tier is granted by the repository, never by the skill: a skill's text is exactly what an
attacker controls, so ``metadata.skillctl.trust`` (and ``origin: synthesized``) can only
*lower* it. ``effective_tier`` is the one place that decides, and scan, verify, the loader and
review all call it. What the repository can say, in ``skillctl.yaml``::

    trust:                         # first matching path glob wins; unmatched -> default_trust
      - {path: "skills/core/*", tier: builtin}
      - {path: "skills/team/*", tier: team}
    policy:
      default_trust: community     # tier of a skill no rule names (the default)
      block_at: {team: medium}     # lowest severity that blocks, per tier

and, in ``skills.lock``: the tier of the source an imported skill came from (``source_tier``,
recorded when the import lands) and a human approval bound to one content digest
(``approval.tier``, ``approval.allow``).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skillctl.model import TRUST_TIERS, Check, Skill
from skillctl.vocab import DEFAULT_TIER, SEVERITIES, TRUST_ORDER

if TYPE_CHECKING:
    from skillctl.config import RepoConfig
    from skillctl.lockmodel import LockEntry

DEFAULT_BLOCK_AT = {"builtin": "critical", "team": "high", "community": "medium", "synthesized": "medium"}
DEFAULT_TRUST = DEFAULT_TIER
SELF_SUPPRESSING_TIERS = frozenset({"builtin", "team"})
#: Tiers whose checks never get host secrets and the network together (nobody reviewed them).
UNTRUSTED_TIERS = frozenset({"community", "synthesized"})
#: ``approval.allow`` value that lets one reviewed digest's checks have secrets with network.
ALLOW_NETWORK_SECRETS = "network+env"
CAPABILITY_RULE = "CHECK-CAPS-001"


@dataclass(frozen=True)
class TrustRule:
    """``trust: [{path: GLOB, tier: TIER}]``: the repo vouches for the skills under a path."""

    path: str
    tier: str


@dataclass(frozen=True)
class TierDecision:
    """The effective tier and the reason for it (shown by scan/load --explain and review)."""

    tier: str
    why: str

    def __str__(self) -> str:
        return self.tier


class Policy:
    """One repository's trust rules and blocking table."""

    def __init__(self, block_at: dict[str, str] | None = None, default_trust: str = DEFAULT_TRUST,
                 rules: tuple[TrustRule, ...] | list[TrustRule] = ()) -> None:
        self.block_at = {**DEFAULT_BLOCK_AT, **(block_at or {})}
        self.default_trust = default_trust
        self.rules = tuple(rules)

    @classmethod
    def from_config(cls, config: RepoConfig | None = None) -> Policy:
        """``policy:`` and ``trust:`` of a RepoConfig (checked by its schema), or the defaults for None."""
        if config is None:
            return cls()
        rules = [TrustRule(g.path.strip().strip("/"), g.tier) for g in config.trust]
        return cls({str(k): str(v) for k, v in config.policy.block_at.items()}, config.policy.default_trust, rules)

    def granted(self, rel: str | None) -> TierDecision:
        """The tier skillctl.yaml grants the skill folder at *rel* (repo-relative, POSIX)."""
        if rel is not None:
            for i, rule in enumerate(self.rules):
                if fnmatch.fnmatchcase(rel, rule.path) or fnmatch.fnmatchcase(rel + "/", rule.path):
                    return TierDecision(rule.tier, f"skillctl.yaml trust[{i}] {rule.path}")
        return TierDecision(self.default_trust, "repository default")

    def tier(self, skill: Skill | None, rel: str | None = None, entry: LockEntry | None = None,
             digest: str | None = None) -> str:
        """Shorthand for ``effective_tier(...).tier``."""
        return effective_tier(self, skill, rel=rel, entry=entry, digest=digest).tier

    def blocks(self, severity: str, tier: str) -> bool:
        threshold = self.block_at.get(tier, "medium")
        if threshold == "never":
            return False
        return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)

    @staticmethod
    def honours_inline_suppressions(tier: str) -> bool:
        return tier in SELF_SUPPRESSING_TIERS


def rank(tier: str | None) -> int:
    """Higher is more trusted; unknown tiers rank as the default tier."""
    return TRUST_ORDER.index(tier) if tier in TRUST_ORDER else TRUST_ORDER.index(DEFAULT_TIER)


def effective_tier(policy: Policy, skill: Skill | None, *, rel: str | None = None,
                   entry: LockEntry | None = None, digest: str | None = None) -> TierDecision:
    """The one decision on a skill's tier (scan, verify, loader and review all ask here).

    1. What the repository grants: an import's recorded ``source_tier`` (the lock entry of the
       skill at this path) replaces the path glob, because where a skill came from says more
       than where it landed; otherwise the first ``trust:`` glob matching *rel*, else
       ``policy.default_trust``.
    2. A human approval recorded in the lock for exactly this content (*digest*) with a tier
       replaces that grant: a reviewer read these bytes and vouched for them.
    3. The skill's own ``trust`` and ``origin: synthesized`` can only lower the result.
    """
    decision = policy.granted(rel)
    if entry is not None and entry.source_tier in TRUST_TIERS and (entry.path is None or entry.path == rel):
        decision = TierDecision(entry.source_tier, "import source recorded in skills.lock")
    approval = entry.approval if entry is not None else None
    if approval is not None and approval.tier in TRUST_TIERS and digest and approval.digest == digest:
        decision = TierDecision(approval.tier, f"approved by {approval.by}")
    life = skill.lifecycle if skill is not None else None
    declared = life.trust if life is not None and life.trust in TRUST_TIERS else None
    if declared is not None and rank(declared) < rank(decision.tier):
        decision = TierDecision(declared, f"lowered by the skill ({decision.tier} granted: {decision.why})")
    if life is not None and life.origin == "synthesized" and rank("synthesized") < rank(decision.tier):
        decision = TierDecision("synthesized", "origin: synthesized")
    return decision


def approval_covers(entry: LockEntry | None, digest: str) -> bool:
    """Has a human approved exactly this content (so its blocking findings are accepted)?"""
    return bool(entry and entry.approval and entry.approval.digest and entry.approval.digest == digest)


def capability_problem(check: Check, tier: str, entry: LockEntry | None = None,
                       digest: str | None = None) -> str | None:
    """Why *check* may not run with the capabilities it asks for at *tier*, or None.

    A check that holds host secrets and may reach the network can send those secrets anywhere;
    for a skill nobody in the repo vouched for, that is the whole attack. Only an approval
    recorded in the lock for this digest, allowing exactly this, lifts the refusal.
    """
    if tier not in UNTRUSTED_TIERS or not (check.network and check.env):
        return None
    approval = entry.approval if entry is not None else None
    if approval is not None and digest and approval.digest == digest and ALLOW_NETWORK_SECRETS in approval.allow:
        return None
    return (f"check {check.id or check.line!r} asks for network and host secrets "
            f"({', '.join(check.env)}) together; {tier} skills never get both (grant the skill a higher "
            f"tier in skillctl.yaml, or `skillctl approve --allow-network-secrets`)")
