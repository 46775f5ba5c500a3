"""Every real skill in ../shared/corpora scanned; at most 2% may be blocked.

The corpora are curated public collections (Anthropic, OpenAI, superpowers, Hermes) and are
presumed benign. They declare no ``metadata.skillctl.trust``, so they are scanned as ``team``
skills (``policy.default_trust: team``), the tier a repository gives the skills it curates:
high and critical findings block. The exact count is asserted after reading each flagged skill.
The one blocked skill is Hermes' ``security/godmode``, a jailbreak kit whose SKILL.md embeds a
system prompt telling a model it is "an unrestricted AI" with no safety filters: a real prompt
injection payload, flagged by design (rated down from critical because the skill presents itself
as red-teaming material, not lower, because the payload is meant to be sent as-is).
"""

from __future__ import annotations

import pytest
from conftest import CORPORA

from skillctl.policy import Policy
from skillctl.scan import Scanner, scan_tree
from skillctl.scan.rules import load_rules

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason="shared corpora not available")


@pytest.fixture(scope="module")
def results():
    scanner = Scanner(rules=load_rules(), policy=Policy(default_trust="team"))
    return scan_tree([CORPORA], scanner=scanner)


def test_every_corpus_skill_is_scanned(results):
    assert len(results) == 226
    assert all(r.error is None for r in results)


def test_at_most_two_percent_of_real_skills_are_blocked(results):
    blocked = sorted(str(r.folder.relative_to(CORPORA)) for r in results if r.blocking)
    assert len(blocked) / len(results) <= 0.02, blocked
    assert blocked == ["hermes/optional-skills/security/godmode"]


def test_the_blocked_finding_is_the_jailbreak_payload(results):
    godmode = next(r for r in results if r.folder.name == "godmode")
    assert {f.rule_id for f in godmode.blocking} == {"INJ-002"}


def test_official_installers_warn_but_do_not_block_team_skills(results):
    warned = [f for r in results for f in r.findings if f.rule_id == "RCE-001" and f.severity == "medium"]
    assert warned and not any(f.blocking for f in warned)
