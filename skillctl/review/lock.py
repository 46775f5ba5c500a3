"""Lock transitions between two commits: what ``skills.lock`` now says about each skill.

The lock is where trust is recorded, so a diff to it is a trust decision: a skill leaving
quarantine, a check that started failing, content that changed while the lock still certifies
the old digest (the loader will refuse that skill until it is re-verified).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from skillctl.clock import as_utc
from skillctl.lockmodel import LockEntry
from skillctl.review.diff import Item, code

DEMOTIONS = frozenset({"failing", "quarantined"})


@dataclass
class Provenance:
    """What a lock entry written by a real verify run must agree with."""

    name: str
    ttl: timedelta | None = None  # the skill's TTL at head (or the repo default)
    check_ids: frozenset[str] | None = None  # the skill's check ids at head
    commit_exists: Callable[[str], bool] | None = None
    signatures: Any = None  # a signing.SignatureChecker built from the *base* allowed_signers


def forged(ea: LockEntry | None, eb: LockEntry, prov: Provenance) -> list[str]:
    """Why *eb*, as it stands at head, is not what a verify run would have written.

    Anyone who can push can write ``status: active`` with a far ``expires_at``; a verify run
    moves ``verified_at`` whenever it changes the verdict, sets ``expires_at`` to exactly
    ``verified_at + ttl``, records a result for every check and a commit that exists, and (when
    the base lists allowed signers) signs the entry. Only loadable entries are judged: a
    hand-made demotion is harmless.
    """
    if eb.status != "active":
        return []
    why: list[str] = []
    if ea is not None and ea.status != "active" and eb.verified_at == ea.verified_at:
        why.append(f"status raised {ea.status} → active without a new verification")
    if ea is not None and eb.verified_at == ea.verified_at and (eb.expires_at != ea.expires_at
                                                                 or eb.checks != ea.checks or eb.digest != ea.digest):
        why.append("evidence (expiry, check results or digest) edited without a new verification")
    if eb.verified_at is None or eb.expires_at is None:
        why.append("active without verified_at/expires_at")
    elif prov.ttl is not None and as_utc(eb.expires_at) - as_utc(eb.verified_at) > prov.ttl + timedelta(seconds=1):
        why.append(f"expires_at is {as_utc(eb.expires_at) - as_utc(eb.verified_at)} after verified_at, longer than "
                   f"the skill's TTL ({prov.ttl})")
    failed = sorted(k for k, v in eb.checks.items() if v not in ("pass", "flaky"))
    if failed:
        why.append("active although check(s) " + ", ".join(failed) + " did not pass")
    if prov.check_ids is not None and not prov.check_ids <= set(eb.checks):
        why.append("no recorded result for check(s) " + ", ".join(sorted(prov.check_ids - set(eb.checks))))
    if eb.findings:
        why.append("active with blocking findings " + ", ".join(eb.findings))
    if eb.verified_commit and prov.commit_exists is not None and not prov.commit_exists(eb.verified_commit):
        why.append(f"verified_commit {eb.verified_commit} is not a commit of this repository")
    if prov.signatures is not None:
        problem = prov.signatures.problem(prov.name, eb)
        if problem is not None:
            why.append(problem)
    return why


def lock_items(ea: LockEntry | None, eb: LockEntry | None, path: str, head_digest: str | None,
               content_changed: bool, prov: Provenance | None = None) -> list[Item]:
    """Items for one skill's lock entry at base (*ea*) and head (*eb*)."""
    items: list[Item] = []
    if eb is not None and ea != eb and prov is not None:
        for why in forged(ea, eb, prov):
            items.append(Item("lock-forged", "danger", f"lock: {why} — no verify run wrote this entry", path, None,
                              {"name": prov.name}))
    if ea is None and eb is not None:
        items.append(Item("lock-added", "info", f"lock: new entry, {code(eb.status)}"
                          + (f" ({code(eb.reason)})" if eb.reason else ""), path, None, {"to": eb.status}))
    elif eb is None and ea is not None:
        items.append(Item("lock-removed", "info", f"lock: entry removed (was {code(ea.status)})", path, None,
                          {"from": ea.status}))
    elif ea is not None and eb is not None and ea != eb:
        items += _transition(ea, eb, path)
    if content_changed and eb is not None and head_digest and eb.digest and eb.digest != head_digest \
            and eb.status not in ("retired", "quarantined"):
        items.append(Item("lock-stale-digest", "warning", f"content changed but skills.lock still certifies the "
                          f"previous content ({code(eb.status)}): agents refuse it until `skillctl verify` "
                          "records the new digest", path, None, {"lock_digest": eb.digest, "digest": head_digest}))
    return items


def _transition(ea: LockEntry, eb: LockEntry, path: str) -> list[Item]:
    items: list[Item] = []
    reason = f": {code(eb.reason)}" if eb.reason else ""
    data = {"from": ea.status, "to": eb.status}
    if ea.status != eb.status:
        if ea.status == "quarantined" and eb.status != "retired":
            if eb.approval is None or eb.approval == ea.approval:
                items.append(Item("lock-quarantine", "danger", f"lock: {code(ea.status)} → {code(eb.status)} "
                                  "without a recorded approval (`skillctl approve`)", path, None, data))
            else:
                items.append(Item("lock-quarantine", "warning", f"lock: quarantine lifted by "
                                  f"{code(eb.approval.by)}: {code(eb.approval.reason)}", path, None, data))
        else:
            level = "warning" if eb.status in DEMOTIONS else "info"
            items.append(Item("lock-transition", level, f"lock: {code(ea.status)} → {code(eb.status)}{reason}",
                              path, None, data))
    elif eb.verified_at != ea.verified_at:
        items.append(Item("lock-verified", "info", f"lock: re-verified, still {code(eb.status)}{reason}", path,
                          None, data))
    flipped = [f"{code(k)} {ea.checks.get(k, 'none')} → {v}" for k, v in sorted(eb.checks.items())
               if ea.checks.get(k) not in (None, v)]
    if flipped:
        items.append(Item("lock-checks", "info", "lock: check results " + ", ".join(flipped), path))
    new_findings = [f for f in eb.findings if f not in ea.findings]
    if new_findings:
        items.append(Item("lock-findings", "warning", "lock: blocking findings recorded: "
                          + ", ".join(code(f) for f in new_findings), path, None, {"findings": new_findings}))
    if ea.status == eb.status and ea.verified_at == eb.verified_at and ea.digest != eb.digest:
        items.append(Item("lock-edited", "warning", "lock: digest changed without a new verification "
                          "(hand-edited?)", path, None, {"from": ea.digest, "to": eb.digest}))
    return items
