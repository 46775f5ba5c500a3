"""Issue #12 targets on the labelled YAML sets, and verdicts that do not depend on the batch.

``holdout`` was written before the issue #12 rules and is not tuned on; ``dev`` was tuned on
(see labelled/README.md). A skill counts as caught when it has a blocking finding at the
community tier.
"""

from __future__ import annotations

import pytest
from conftest import CORPORA
from labelled_sets import materialize

from skillctl.scan import Scanner, scan_tree
from skillctl.scan.rules import load_rules


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    return {(s, label): materialize(s, label, root) for s in ("dev", "holdout") for label in ("malicious", "benign")}


@pytest.mark.parametrize("set_name", ["dev", "holdout"])
def test_recall_at_least_97_percent(cases, set_name):
    results = scan_tree(cases[(set_name, "malicious")])
    missed = [r.name for r in results if not r.blocking]
    assert 1 - len(missed) / len(results) >= 0.97, missed


@pytest.mark.parametrize("set_name", ["dev", "holdout"])
def test_benign_blocked_at_most_2_percent(cases, set_name):
    results = scan_tree(cases[(set_name, "benign")])
    blocked = {r.name: [f.rule_id for f in r.blocking] for r in results if r.blocking}
    assert len(blocked) / len(results) <= 0.02, blocked


def test_every_verdict_is_the_same_alone_and_in_a_batch(cases):
    """Scan each skill alone, then all labelled skills plus the real corpora in one run: same findings."""
    scanner = Scanner(rules=load_rules())
    folders = [f for fs in cases.values() for f in fs]
    if CORPORA.is_dir():
        folders += sorted(p.parent for p in CORPORA.rglob("SKILL.md"))[:80]
    batch = {r.folder: sorted((f.rule_id, f.line, f.blocking) for f in r.findings)
             for r in scan_tree(folders, scanner=scanner)}
    for folder in folders:
        alone = scan_tree([folder], scanner=scanner)[0]
        assert sorted((f.rule_id, f.line, f.blocking) for f in alone.findings) == batch[folder], folder.name


def test_a_lookalike_and_its_original_in_one_batch(cases):
    """Only the newcomer is flagged: skill-creator (well-known) passes next to its homoglyph."""
    folders = [f for f in cases[("holdout", "benign")] + cases[("holdout", "malicious")]
               if f.name in ("skill-creator", "skіll-creator")]
    results = {r.folder.name: r for r in scan_tree(folders)}
    assert not results["skill-creator"].findings
    assert "NAME-LOOKALIKE-001" in {f.rule_id for f in results["skіll-creator"].blocking}


@pytest.mark.parametrize("name, rule", [
    ("solana-wallet-sync", "PREREQ-001"), ("youtube-summary-pro", "PREREQ-001"), ("gmail-digest-plus", "PREREQ-001"),
    ("issue-reporter", "AGENT-SEND-001"), ("tidy-workspace", "AGENT-HIDE-001"),
    ("release-fixup", "AGENT-HISTORY-001"), ("readme-badges", "MDEXFIL-004"),
    ("node-concat-exec", "OBF-ASSEMBLE-001"), ("node-hex-exec", "OBF-ASSEMBLE-001"),
    ("dns-chunk-bash", "EXFIL-DNS-001"), ("timebomb-python", "TIMEBOMB-001"), ("pickle-remote", "RCE-FETCH-001"),
    ("githook-escape", "TRAV-WRITE-001"), ("gcp-sa-key", "SECRET-001"), ("gh-adress-comments", "NAME-LOOKALIKE-001"),
])
def test_each_new_analyzer_fires_on_its_holdout_case(cases, name, rule):
    folder = next(f for f in cases[("holdout", "malicious")] if f.name == name)
    assert rule in {f.rule_id for f in scan_tree([folder])[0].blocking}


@pytest.mark.parametrize("name, rule, severity", [
    ("uv-project-setup", "RCE-001", "low"),  # the vendor's own installer
    ("dokku-deploy", None, None),  # public keys added to the user's own server
    ("md-comments", None, None),  # notes to maintainers, linter directives
])
def test_documentation_is_calibrated(cases, name, rule, severity):
    folder = next(f for f in cases[("holdout", "benign")] if f.name == name)
    findings = scan_tree([folder])[0].findings
    if rule is None:
        assert not [f for f in findings if f.severity not in ("info", "low")]
    else:
        assert {f.severity for f in findings if f.rule_id == rule} == {severity}
