"""Lock transitions between two commits: what ``skills.lock`` now says about each skill.

The lock is where trust is recorded, so a diff to it is a trust decision: a skill leaving
quarantine, a check that started failing, content that changed while the lock still certifies
the old digest (the loader will refuse that skill until it is re-verified).
"""

from __future__ import annotations

from skillctl.lockmodel import LockEntry
from skillctl.review.diff import Item, code

DEMOTIONS = frozenset({"failing", "quarantined"})


def lock_items(ea: LockEntry | None, eb: LockEntry | None, path: str, head_digest: str | None,
               content_changed: bool) -> list[Item]:
    """Items for one skill's lock entry at base (*ea*) and head (*eb*)."""
    items: list[Item] = []
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
