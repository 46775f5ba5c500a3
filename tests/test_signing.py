"""What is signed survives the lock's own round trip, and nothing signed can change unnoticed."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from skillctl.lock import dump_lock, parse_lock
from skillctl.lockmodel import Approval, Lock, LockEntry
from skillctl.signing import SIGNED_FIELDS, payload

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.just(timezone.utc))
entries = st.builds(
    LockEntry,
    version=st.none() | text, digest=st.none() | text,
    status=st.sampled_from(["draft", "active", "stale", "failing", "quarantined", "retired"]),
    reason=text, since=st.none() | times, verified_at=st.none() | times, verified_commit=st.none() | text,
    expires_at=st.none() | times,
    checks=st.dictionaries(text, st.sampled_from(["pass", "fail", "flaky", "error"]), max_size=3),
    env=st.dictionaries(text, text, max_size=3), findings=st.lists(text, max_size=3), notes=st.lists(text, max_size=2),
    approval=st.none() | st.builds(Approval, by=text, at=times, reason=text, digest=st.none() | text,
                                   tier=st.none() | st.sampled_from(["team", "builtin"]),
                                   allow=st.lists(st.just("network+env"), max_size=1)),
    tier=st.none() | st.sampled_from(["builtin", "team", "community", "synthesized"]),
    source_tier=st.none() | st.sampled_from(["team", "community"]),
)


@settings(max_examples=200, deadline=None)
@given(name=text.filter(bool), entry=entries)
def test_the_signed_payload_survives_writing_and_reading_the_lock(name, entry):
    back = parse_lock(dump_lock(Lock(skills={name: entry})).encode("utf-8"), Path("skills.lock"))
    assert payload(name, back.skills[name]) == payload(name, entry)


@settings(max_examples=100, deadline=None)
@given(entry=entries, field=st.sampled_from(["status", "expires_at", "digest", "checks", "tier"]))
def test_every_loadability_field_is_signed(entry, field):
    assert field in SIGNED_FIELDS
    changed = {"status": "active" if entry.status != "active" else "failing",
               "expires_at": datetime(2999, 1, 1, tzinfo=timezone.utc), "digest": (entry.digest or "") + "x",
               "checks": {**entry.checks, "forged": "pass"}, "tier": "builtin" if entry.tier != "builtin" else "team"}
    assert payload("s", entry) != payload("s", entry.model_copy(update={field: changed[field]}))


def test_the_name_is_signed_too():
    entry = LockEntry(status="active", digest="sha256:aa")
    assert payload("csv-clean", entry) != payload("csv-c1ean", entry)
