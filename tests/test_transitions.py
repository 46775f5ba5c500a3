"""Lifecycle rules (docs/DESIGN.md, "The lifecycle") on plain values: no processes, a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from skillctl.lockmodel import Approval, LockEntry
from skillctl.transitions import SUSPECT, Evidence, Outcome, after_block, after_verification, describe
from skillctl.verify.runner import CheckResult

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)


def result(cid: str, ok: bool, reason: str = "exit 1") -> CheckResult:
    return CheckResult(id=cid, status="pass" if ok else "fail", reason="ok" if ok else reason)


def outcome(cid: str, first: bool, last: bool | None = None) -> Outcome:
    a = result(cid, first)
    return Outcome(first=a, last=a if last is None else result(cid, last))


def evidence(*outcomes: Outcome, problem: str | None = None) -> Evidence:
    return Evidence(digest="sha256:new", version="1.0.0", path="skills/x", env={"sandbox": "bwrap"},
                    commit="abc1234", ttl=timedelta(days=30), outcomes=list(outcomes), problem=problem)


def active(**kw) -> LockEntry:
    return LockEntry(status="active", since=T0, verified_at=T0, expires_at=T0 + timedelta(days=30),
                     digest="sha256:old", checks={"a": "pass"}, **kw)


def test_draft_to_active_when_every_check_passes():
    new = after_verification(None, evidence(outcome("a", True), outcome("b", True)), T1)
    assert new.status == "active" and new.reason == "2/2 checks passed"
    assert new.since == T1 and new.verified_at == T1 and new.expires_at == T1 + timedelta(days=30)
    assert new.checks == {"a": "pass", "b": "pass"} and new.digest == "sha256:new"
    assert new.verified_commit == "abc1234" and new.path == "skills/x"


def test_since_is_kept_while_the_status_does_not_change():
    new = after_verification(active(), evidence(outcome("a", True)), T1)
    assert new.since == T0 and new.verified_at == T1


def test_flaky_pass_stays_active_with_a_note():
    new = after_verification(active(), evidence(outcome("a", False, True)), T1)
    assert new.status == "active" and "(1 flaky)" in new.reason
    assert new.checks == {"a": "flaky"}
    assert any(n.startswith("flaky: check a failed once (exit 1)") for n in new.notes)


def test_flaky_notes_are_capped():
    entry = active()
    for day in range(6):
        entry = after_verification(entry, evidence(outcome("a", False, True)), T0 + timedelta(days=day))
    assert len([n for n in entry.notes if n.startswith("flaky")]) == 3


def test_first_failure_after_a_pass_is_suspect_not_demoted():
    new = after_verification(active(), evidence(outcome("a", False)), T1)
    assert new.status == "active" and new.since == T0
    assert "first failure, not demoted yet" in new.reason
    assert any(n.startswith(SUSPECT + "check a exit 1") for n in new.notes)
    assert new.expires_at == T0 + timedelta(days=30)  # a failure never extends trust


def test_second_consecutive_failure_demotes_to_failing():
    once = after_verification(active(), evidence(outcome("a", False)), T1)
    twice = after_verification(once, evidence(outcome("a", False)), T2)
    assert twice.status == "failing" and twice.since == T2 and twice.reason == "check a exit 1"
    assert not any(n.startswith(SUSPECT) for n in twice.notes)
    assert describe("x", once, twice) == "x active -> failing (check a exit 1)"


def test_failure_then_pass_clears_the_suspicion():
    once = after_verification(active(), evidence(outcome("a", False)), T1)
    healed = after_verification(once, evidence(outcome("a", True)), T2)
    assert healed.status == "active" and not healed.notes


def test_stale_and_failing_return_to_active_on_a_fresh_pass():
    for status in ("stale", "failing"):
        new = after_verification(LockEntry(status=status, since=T0), evidence(outcome("a", True)), T1)
        assert new.status == "active" and new.since == T1


def test_failing_stays_failing():
    new = after_verification(LockEntry(status="failing", since=T0), evidence(outcome("a", False)), T1)
    assert new.status == "failing" and new.since == T0


def test_draft_that_fails_stays_draft():
    new = after_verification(None, evidence(outcome("a", True), outcome("b", False)), T1)
    assert new.status == "draft" and new.reason == "check b exit 1" and new.checks == {"a": "pass", "b": "fail"}


def test_no_checks_or_a_problem_is_never_a_pass():
    assert after_verification(None, evidence(), T1).status == "draft"
    new = after_verification(None, evidence(outcome("a", True), problem="duplicate check id(s) a"), T1)
    assert new.status == "draft" and new.reason.startswith("duplicate")


def test_error_results_count_as_failures():
    err = CheckResult(id="a", status="error", reason="unsupported language 'ruby'")
    new = after_verification(active(), evidence(Outcome(first=err, last=err)), T1)
    assert new.checks == {"a": "error"} and "unsupported language" in new.reason


def test_blocking_finding_quarantines_from_any_status():
    new = after_block(active(), digest="sha256:evil", version="2.0.0", path="skills/x",
                      findings=["RCE-001", "EXFIL-007"], now=T1)
    assert new.status == "quarantined" and new.findings == ["RCE-001", "EXFIL-007"]
    assert new.reason == "blocking scan finding(s): RCE-001, EXFIL-007" and new.since == T1


def test_approved_quarantine_that_fails_stays_quarantined():
    entry = LockEntry(status="quarantined", since=T0,
                      approval=Approval(by="alice", at=T0, reason="reviewed", digest="sha256:new"))
    new = after_verification(entry, evidence(outcome("a", False)), T1)
    assert new.status == "quarantined" and new.approval is not None


def test_describe_is_none_without_a_move_and_truncates_long_reasons():
    entry = active()
    assert describe("x", entry, entry) is None
    long = after_verification(None, evidence(outcome("a", False)), T1).model_copy(update={"reason": "y" * 300})
    text = describe("x", None, long)
    assert text.startswith("x untracked -> draft (") and len(text) < 140
