"""``review``: what a skill diff between two commits changes in behaviour and trust.

Skill changes deserve the review code gets, but a SKILL.md diff hides what matters: a deleted
fenced block is a removed verification check, a new URL in a bash block is a new network
destination, ``ttl: 90d`` means the skill is trusted three times longer. This module reads
both commits straight from git (no checkout: ``review_git``), pairs skills across them (added,
changed, renamed by name or by content, removed), compares each pair (``review_diff``), diffs
``skills.lock`` for verdict transitions, and returns a ``Review`` whose one-line verdict leads
with the most dangerous changes. ``review_render`` turns it into a PR comment or annotations.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from skillctl.errors import InputError, SkillctlError
from skillctl.model import parse_ttl
from skillctl.review.diff import (
    KIND_LABELS,
    LEVELS,
    Item,
    Side,
    code,
    compare_checks,
    compare_files,
    compare_findings,
    compare_metadata,
    compare_suppressions,
    compare_trust,
    summarize_added,
)
from skillctl.review.git import MODE_LINK, Blob, Blobs, Snapshot, extract, open_git, snapshot
from skillctl.review.text import compare_commands, compare_hosts

RENAME_SIMILARITY = 0.6
#: skillctl.yaml keys that decide trust: a change to any of them is a danger item.
TRUST_KEYS = frozenset({"trust", "policy", "suppress", "rules", "require_signed", "allowed_signers",
                        "require_sandbox"})
MAX_PAIRINGS = 40_000


@dataclass
class SkillChange:
    """One skill's change: the kind, where it lived before and after, and the items found."""

    name: str
    change: str  # added | changed | renamed | removed | lock
    base_folder: str | None
    head_folder: str | None
    base_version: str | None = None
    head_version: str | None = None
    items: list[Item] = field(default_factory=list)
    files: list[tuple[str, str, bool]] = field(default_factory=list)

    def count(self, level: str) -> int:
        return sum(1 for i in self.items if i.level == level)

    @property
    def worst(self) -> int:
        return min((LEVELS.index(i.level) for i in self.items), default=len(LEVELS))


@dataclass
class Review:
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    skills: list[SkillChange] = field(default_factory=list)
    repo_items: list[Item] = field(default_factory=list)
    unchanged: int = 0

    def attention(self) -> list[tuple[str | None, Item]]:
        """Danger then warning items, (skill name, item), in verdict order."""
        pairs = [(None, i) for i in self.repo_items] + [(s.name, i) for s in self.skills for i in s.items]
        pairs = [p for p in pairs if p[1].level != "info"]
        order = list(KIND_LABELS)
        return sorted(pairs, key=lambda p: (LEVELS.index(p[1].level),
                                            order.index(p[1].kind) if p[1].kind in order else len(order)))

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in ("added", "changed", "renamed", "removed", "lock")}
        for s in self.skills:
            out[s.change] += 1
        out["unchanged"] = self.unchanged
        return out

    def verdict(self, limit: int = 4) -> str:
        """One line: the most dangerous kinds first, each with its first example."""
        attention = self.attention()
        if not self.skills and not self.repo_items:
            return "✅ No skill changes."
        if not attention:
            return f"✅ No behaviour or trust changes need attention ({_changes(self.counts())})."
        groups: dict[tuple[str, str], list[tuple[str | None, Item]]] = {}
        for name, item in attention:
            groups.setdefault((item.level, item.kind), []).append((name, item))
        parts = []
        for (_level, kind), members in list(groups.items())[:limit]:
            name, item = members[0]
            example = _example(item)
            where = (f" in {code(name)}" if example else code(name)) if name else ""
            more = f" (+{len(members) - 1} more)" if len(members) > 1 else ""
            parts.append(f"{KIND_LABELS.get(kind, kind)}: {example}{where}{more}")
        if len(groups) > limit:
            parts.append(f"+{len(groups) - limit} more kinds")
        danger = sum(1 for _, i in attention if i.level == "danger")
        head = (f"⚠ **{danger} change(s) need careful review**" if danger
                else f"△ **{len(attention)} change(s) to look at**")
        return f"{head} — " + " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": {"ref": self.base_ref, "sha": self.base_sha},
            "head": {"ref": self.head_ref, "sha": self.head_sha},
            "verdict": self.verdict(),
            "summary": {**self.counts(), **{lvl: sum(1 for _, i in self._all() if i.level == lvl) for lvl in LEVELS}},
            "repo": [_item_dict(i) for i in self.repo_items],
            "skills": [{
                "name": s.name, "change": s.change, "base_folder": s.base_folder, "head_folder": s.head_folder,
                "base_version": s.base_version, "head_version": s.head_version,
                "files": [{"status": st, "path": p, "binary": b} for st, p, b in s.files],
                "items": [_item_dict(i) for i in s.items],
            } for s in self.skills],
        }

    def _all(self) -> list[tuple[str | None, Item]]:
        return [(None, i) for i in self.repo_items] + [(s.name, i) for s in self.skills for i in s.items]


def _item_dict(item: Item) -> dict[str, Any]:
    return {"kind": item.kind, "level": item.level, "message": item.message, "path": item.path,
            "line": item.line, **({"data": item.data} if item.data else {})}


def _example(item: Item) -> str:
    for key in ("check", "host", "rule_id", "tools"):
        if key in item.data:
            value = item.data[key]
            return code(", ".join(value) if isinstance(value, list) else value)
    return ""


def _changes(counts: dict[str, int]) -> str:
    parts = [f"{n} {k}" for k, n in counts.items() if n and k != "unchanged"]
    return ", ".join(parts) or "no skill content changed"


# -- building a review -------------------------------------------------------------------------

@dataclass
class _Ctx:
    repo: Any
    tmp: Path
    blobs: Blobs
    default_ttl: str = "30d"
    default_timeout: float = 60.0
    names: dict[str, list[str]] = field(default_factory=dict)
    sides: dict[tuple[str, str], Side] = field(default_factory=dict)
    base_config: Any = None


def review(root: Path, base: str, head: str = "HEAD") -> Review:
    """Compare the skills under *root* at commit *base* with commit *head*."""
    repo, prefix = open_git(Path(root))
    snaps = {"base": snapshot(repo, base, prefix, root), "head": snapshot(repo, head, prefix, root)}
    out = Review(base, snaps["base"].sha, head, snaps["head"].sha)
    from skillctl.sandbox import scratch_base

    with tempfile.TemporaryDirectory(prefix="skillctl-review-", dir=scratch_base()) as tmp:
        ctx = _Ctx(repo, Path(tmp), Blobs(repo))
        a, b = snaps["base"].skills, snaps["head"].skills
        same = {f for f in a.keys() & b.keys()
                if a[f] == b[f] and _links(ctx, snaps["base"], f) == _links(ctx, snaps["head"], f)}
        pairs = [(f, f) for f in sorted(a.keys() & b.keys()) if f not in same]
        out.unchanged = len(same)
        ctx.blobs.prefetch(blob.sha for blob in _needed(snaps, {f for f, _ in pairs}))
        config = _configs(ctx, snaps, out)
        removed = {f: _side(ctx, snaps["base"], f) for f in sorted(a.keys() - b.keys())}
        added = {f: _side(ctx, snaps["head"], f) for f in sorted(b.keys() - a.keys())}
        renames = _pair_renames(removed, added)
        sides = {("base", f): _side(ctx, snaps["base"], f) for f, _ in pairs}
        sides |= {("head", f): _side(ctx, snaps["head"], f) for _, f in pairs}
        sides |= {("base", f): s for f, s in removed.items()} | {("head", f): s for f, s in added.items()}
        for which in ("base", "head"):
            ctx.names[which] = [PurePosixPath(f).name for f in snaps[which].skills]
        _scan(ctx, config, snaps, sides, out)
        for fa, fb in pairs + renames:
            out.skills.append(_compare(ctx, snaps, sides[("base", fa)], sides[("head", fb)]))
        paired_a, paired_b = {p[0] for p in renames}, {p[1] for p in renames}
        out.skills += [_compare(ctx, snaps, None, s) for f, s in added.items() if f not in paired_b]
        out.skills += [_compare(ctx, snaps, s, None) for f, s in removed.items() if f not in paired_a]
        _lock_changes(ctx, snaps, out)
    out.skills.sort(key=lambda s: (s.worst, s.name))
    return out


def _needed(snaps: dict[str, Snapshot], changed: set[str]) -> Iterator[Blob]:
    """Every blob the review will read: changed, added and removed skills, config and lock."""
    from skillctl.config import CONFIG_NAME
    from skillctl.repo import LOCK_NAME

    a, b = snaps["base"].skills, snaps["head"].skills
    wanted = {"base": changed | (a.keys() - b.keys()), "head": changed | (b.keys() - a.keys())}
    for which, snap in snaps.items():
        for folder in wanted[which]:
            yield from (blob for blob in snap.skills[folder].values() if blob.mode != "160000")
        yield from (blob for name in (CONFIG_NAME, LOCK_NAME) if (blob := snap.blob(name)) is not None)


def _configs(ctx: _Ctx, snaps: dict[str, Snapshot], out: Review) -> Any:
    """The *base* commit's skillctl.yaml drives scanning both sides: a PR cannot relax its own review."""
    from skillctl.config import CONFIG_NAME, load_config

    blobs = {w: snaps[w].blob(CONFIG_NAME) for w in snaps}
    config = None
    if blobs["base"] is not None:
        folder = ctx.tmp / "config-base"
        extract(ctx.blobs, {CONFIG_NAME: blobs["base"]}, folder)
        try:
            config = load_config(folder)
        except SkillctlError as exc:
            out.repo_items.append(Item("config-changed", "warning", f"base {CONFIG_NAME} unreadable, defaults "
                                       f"used: {code(exc.message)}", snaps["base"].prefix + CONFIG_NAME))
        if config is not None:
            ctx.default_ttl, ctx.default_timeout = config.ttl, config.timeout
            ctx.base_config = config
            _extract_rule_packs(ctx, snaps["base"], config.rules, folder)
    if blobs["base"] != blobs["head"]:
        keys = _changed_keys(ctx, blobs["base"], blobs["head"])
        sensitive = [k for k in keys if k in TRUST_KEYS]
        out.repo_items.append(Item(
            "config-changed", "danger" if sensitive else "warning", f"{CONFIG_NAME} changed (applies to every skill)"
            + (": " + ", ".join(code(k) for k in keys) if keys else "")
            + (" — decides which skills are trusted and what blocks them" if sensitive else ""),
            snaps["head"].prefix + CONFIG_NAME, None, {"keys": keys}))
    signers = [getattr(config, "allowed_signers", None) or "allowed_signers"]
    for rel in signers:
        if snaps["base"].blob(rel) != snaps["head"].blob(rel):
            out.repo_items.append(Item("config-changed", "danger", f"{code(rel)} changed: it decides whose "
                                       "signatures on skills.lock entries the loader accepts",
                                       snaps["head"].prefix + rel, None, {"keys": [rel]}))
    return config


def _extract_rule_packs(ctx: _Ctx, snap: Snapshot, packs: list[str], folder: Path) -> None:
    """The repo's own rule packs (``rules:`` in skillctl.yaml), as of the base commit."""
    for pack in packs:
        stem = str(PurePosixPath(snap.prefix + pack.strip("/")))
        blobs = {p[len(snap.prefix):]: b for p, b in snap.files.items() if p == stem or p.startswith(stem + "/")}
        extract(ctx.blobs, blobs, folder)


def _changed_keys(ctx: _Ctx, a: Blob | None, b: Blob | None) -> list[str]:
    import yaml

    from skillctl.safeio import load_bounded

    def load(blob: Blob | None) -> dict[str, Any]:
        try:
            data = load_bounded((ctx.blobs.get(blob) or b"").decode("utf-8", "replace"), "skillctl.yaml")
        except (yaml.YAMLError, InputError):
            return {"<unparseable>": True}
        return data if isinstance(data, dict) else {}

    da, db = load(a), load(b)
    return sorted(str(k) for k in da.keys() | db.keys() if da.get(k) != db.get(k))


def _side(ctx: _Ctx, snap: Snapshot, folder: str) -> Side:
    """Write one skill version to disk once, parse it, digest it."""
    from skillctl.lock import skill_digest
    from skillctl.parse import read_skill
    from skillctl.repo import relpath

    key = (snap.sha, folder)
    if key in ctx.sides:
        return ctx.sides[key]
    tree = ctx.tmp / snap.sha
    disk = tree / folder if folder else tree
    blobs = snap.skills[folder]
    ex = extract(ctx.blobs, blobs, disk)
    links = _links(ctx, snap, folder)
    for rel, targets in links.items():  # what the links reach is part of the skill (and of its digest)
        reached = extract(ctx.blobs, targets, tree)
        if len(targets) == 1 and next(iter(targets)) in reached.texts:
            ex.texts[rel] = reached.texts[next(iter(targets))]
    skill, error = None, None
    try:
        skill = read_skill(disk, root=tree)
    except InputError as exc:
        error = f"{exc.code} {exc.message}" + (f" (line {exc.line})" if exc.line else "")
    digest, refused = None, None
    try:
        digest = skill_digest(disk, root=tree)
    except InputError as exc:  # a link leaving the repo: the loader refuses the skill outright
        refused = f"{relpath(Path(exc.path or disk), disk)}: {exc.message}"
    side = Side(folder=folder, skill=skill, error=error, texts=ex.texts, binary=ex.binary,
                modes={r: b.mode for r, b in blobs.items()}, digest=digest, refused=refused, links=links)
    ctx.sides[key] = side
    return side


def _links(ctx: _Ctx, snap: Snapshot, folder: str) -> dict[str, dict[str, Blob]]:
    """Symlink (skill-relative) -> the blobs it reaches inside the tree (a file, or a folder's files).

    A skill whose script links to a shared file changes when that file does, although no blob
    of the skill folder itself moved; links leaving the tree reach nothing here (``_side``
    reports them through the digest's refusal).
    """
    out: dict[str, dict[str, Blob]] = {}
    for rel, blob in snap.skills[folder].items():
        if blob.mode != MODE_LINK:
            continue
        text = os.fsdecode(ctx.blobs.get(blob) or b"")
        if not text or text.startswith("/"):
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(posixpath.join(folder, rel)), text))
        if target == ".." or target.startswith("../"):
            continue
        if target in snap.files:
            out[rel] = {target: snap.files[target]}
        else:
            out[rel] = {p: b for p, b in snap.files.items() if p.startswith(target + "/") and b.mode != MODE_LINK}
    return out


def _pair_renames(removed: dict[str, Side], added: dict[str, Side]) -> list[tuple[str, str]]:
    """Pair a removed folder with an added one: same skill name first, then similar SKILL.md."""
    free_a, free_b = dict(removed), dict(added)
    pairs: list[tuple[str, str]] = []
    by_name: dict[str, list[str]] = {}
    for folder, side in free_b.items():
        by_name.setdefault(_name(side), []).append(folder)
    for folder, side in list(free_a.items()):
        match = next((f for f in by_name.get(_name(side), []) if f in free_b), None)
        if match is not None:
            pairs.append((folder, match))
            del free_a[folder], free_b[match]
    if not free_a or not free_b or len(free_a) * len(free_b) > MAX_PAIRINGS:
        return pairs
    scored = []
    for fa, sa in free_a.items():
        lines_a = sa.texts.get("SKILL.md", "").split("\n")
        for fb, sb in free_b.items():
            m = difflib.SequenceMatcher(None, lines_a, sb.texts.get("SKILL.md", "").split("\n"), autojunk=False)
            if m.real_quick_ratio() >= RENAME_SIMILARITY and m.quick_ratio() >= RENAME_SIMILARITY:
                ratio = m.ratio()
                if ratio >= RENAME_SIMILARITY:
                    scored.append((ratio, fa, fb))
    for _ratio, fa, fb in sorted(scored, reverse=True):
        if fa in free_a and fb in free_b:
            pairs.append((fa, fb))
            del free_a[fa], free_b[fb]
    return pairs


def _name(side: Side) -> str:
    return side.skill.name if side.skill is not None else PurePosixPath(side.folder).name


def _version(side: Side | None) -> str | None:
    if side is None or side.skill is None or side.skill.lifecycle is None:
        return None
    return side.skill.lifecycle.version


def _scan(ctx: _Ctx, config: Any, snaps: dict[str, Snapshot], sides: dict[tuple[str, str], Side],
          out: Review) -> None:
    """Scan both versions with the base commit's policy; findings carry git-relative paths."""
    from skillctl.scan import Scanner

    scanners = {}
    base_lock = _read_lock_at(ctx, snaps["base"])
    try:
        for which in snaps:
            scanners[which] = Scanner.from_config(config, root=ctx.tmp / snaps[which].sha, lock=base_lock)
    except SkillctlError as exc:
        out.repo_items.append(Item("config-changed", "warning", f"scan skipped: {code(str(exc))}"))
        return
    renamed = _new_names(sides)
    for (which, _folder), side in sides.items():
        scanner = scanners[which]
        tree = ctx.tmp / snaps[which].sha
        side.tier = scanner.tier_of(side.skill, tree / side.folder if side.folder else tree).tier
        if side.skill is not None:
            # Look-alike names are judged only for names this diff introduces: the check compares
            # against every skill in the repo, and an unchanged name yields no new finding anyway.
            names = ctx.names[which] if side.skill.name in renamed else ()
            side.findings = scanner.scan(side.skill, names)
        else:
            tree = ctx.tmp / snaps[which].sha
            side.findings = scanner.scan_unparsed(tree / side.folder if side.folder else tree)


def _base_signers(ctx: _Ctx, snap: Snapshot) -> Any:
    """A SignatureChecker over the *base* commit's allowed_signers (a PR cannot add its own key)."""
    from skillctl.signing import SignatureChecker

    config = ctx.base_config
    rel = getattr(config, "allowed_signers", None) or "allowed_signers"
    blob = snap.blob(rel)
    if blob is None:
        return None
    folder = ctx.tmp / "signers-base"
    extract(ctx.blobs, {"allowed_signers": blob}, folder)
    return SignatureChecker(folder / "allowed_signers")


def _commit_checker(repo: Any) -> Any:
    """Does a sha name a commit here? None in a shallow clone, where old commits are simply absent."""
    import git

    try:
        if repo.git.rev_parse("--is-shallow-repository").strip() == "true":
            return None
    except git.GitCommandError:
        return None

    def exists(sha: str) -> bool:
        try:
            return repo.commit(sha).type == "commit"
        except (git.BadName, ValueError, git.GitCommandError):
            return False

    return exists


def _lock_only_side(ctx: _Ctx, snaps: dict[str, Snapshot], name: str, entry: Any) -> Side | None:
    """The unchanged skill a lock-only change is about, parsed, so its TTL and checks can be compared."""
    folder = entry.path if entry.path in snaps["head"].skills else next(
        (f for f in snaps["head"].skills if PurePosixPath(f).name == name), None)
    return _side(ctx, snaps["head"], folder) if folder is not None else None


def _read_lock_at(ctx: _Ctx, snap: Snapshot) -> Any:
    """The lock as of *snap* (None when absent or unreadable: ``_lock_changes`` reports that)."""
    from skillctl.errors import LockError
    from skillctl.lock import parse_lock
    from skillctl.repo import LOCK_NAME

    raw = ctx.blobs.get(snap.blob(LOCK_NAME))
    if raw is None:
        return None
    try:
        return parse_lock(raw, Path(snap.prefix + LOCK_NAME))
    except LockError:
        return None


def _new_names(sides: dict[tuple[str, str], Side]) -> set[str]:
    before = {s.skill.name for (which, _), s in sides.items() if which == "base" and s.skill is not None}
    return {s.skill.name for (which, _), s in sides.items() if which == "head" and s.skill is not None} - before


def _compare(ctx: _Ctx, snaps: dict[str, Snapshot], old: Side | None, new: Side | None) -> SkillChange:
    blobs_a = snaps["base"].skills[old.folder] if old else {}
    blobs_b = snaps["head"].skills[new.folder] if new else {}
    kind = ("added" if old is None else "removed" if new is None
            else "renamed" if old.folder != new.folder else "changed")
    current = new or old
    assert current is not None
    change = SkillChange(_name(current), kind, old.folder if old else None, new.folder if new else None,
                         _version(old), _version(new))
    change.files, file_items = compare_files(old, new, blobs_a, blobs_b)
    if old is not None and new is not None:
        for rel, targets in sorted(new.links.items()):
            if old.links.get(rel) not in (None, targets):
                file_items.append(Item("file-symlink", "danger", f"{code(rel)} links to "
                                       f"{code(', '.join(sorted(targets)) or 'nothing')}, which this diff changes: "
                                       "the skill now runs different code", new.path(rel), None,
                                       {"targets": sorted(targets)}))
                if ("M", rel, False) not in change.files:
                    change.files.append(("M", rel, False))
    items: list[Item] = []
    if old is not None and new is not None and kind == "renamed":
        items.append(Item("renamed", "info", f"moved {code(old.folder)} → {code(new.folder)}", new.path()))
    if new is None:
        assert old is not None
        items.append(Item("removed", "info", f"skill removed (was {code(old.folder)})", old.path()))
        change.items = items
        return change
    md = new.path()
    if new.refused:
        items.append(Item("file-symlink", "danger", f"refused: {code(new.refused)} (no skill may read outside "
                          "the repository; the loader will not load it)", md, None))
    if new.error:
        items.append(Item("parse-error", "danger", f"SKILL.md does not parse, so nothing in it can be verified: "
                          f"{code(new.error)}", md, None))
    elif old is not None and old.error:
        items.append(Item("parse-fixed", "info", "SKILL.md parses again", md))
    if old is None and new.skill is not None:
        items += summarize_added(new, ctx.default_ttl)
    if old is not None and old.skill is not None and new.skill is not None:
        items += compare_metadata(old, new, blobs_a != blobs_b, ctx.default_ttl)
    if new.skill is not None and old is not None:
        items += compare_checks(old.skill, new.skill, md, ctx.default_timeout)
    items += compare_trust(old, new) + compare_suppressions(old, new)
    items += compare_hosts(old, new) + compare_commands(old, new) + compare_findings(old, new) + file_items
    change.items = sorted(items, key=lambda i: LEVELS.index(i.level))
    return change


def _lock_changes(ctx: _Ctx, snaps: dict[str, Snapshot], out: Review) -> None:
    """Attach lock transitions to their skills (a lock-only change becomes its own entry)."""
    from skillctl.errors import LockError
    from skillctl.lock import parse_lock
    from skillctl.repo import LOCK_NAME
    from skillctl.review.lock import Provenance, lock_items

    entries: dict[str, dict[str, Any]] = {}
    for which, snap in snaps.items():
        raw = ctx.blobs.get(snap.blob(LOCK_NAME))
        try:
            entries[which] = parse_lock(raw, Path(snap.prefix + LOCK_NAME)).skills if raw is not None else {}
        except LockError as exc:
            out.repo_items.append(Item("lock-unreadable", "danger" if which == "head" else "warning",
                                       f"{LOCK_NAME} at {which} is unreadable: {code(str(exc))}",
                                       snap.prefix + LOCK_NAME))
    if len(entries) < 2:
        return
    signatures = _base_signers(ctx, snaps["base"])
    exists = _commit_checker(ctx.repo)
    by_name = {s.name: s for s in out.skills}
    by_old_name = {_name(ctx.sides[(snaps["base"].sha, s.base_folder)]): s for s in out.skills
                   if s.base_folder is not None and (snaps["base"].sha, s.base_folder) in ctx.sides}
    lock_path = snaps["head"].prefix + LOCK_NAME
    for name in sorted(entries["base"].keys() | entries["head"].keys() | by_name.keys()):
        change = by_name.get(name) or by_old_name.get(name)
        head = ctx.sides.get((snaps["head"].sha, change.head_folder)) if change and change.head_folder else None
        entry_head = entries["head"].get(name)
        if head is None and change is None and entry_head is not None and entry_head != entries["base"].get(name):
            head = _lock_only_side(ctx, snaps, name, entry_head)  # its TTL and checks judge the entry
        content_changed = change is not None and change.change in ("added", "changed", "renamed") and bool(
            change.files)
        prov = Provenance(name, commit_exists=exists, signatures=signatures)
        if head is not None and head.skill is not None:
            life = head.skill.lifecycle
            prov.ttl = parse_ttl((life.ttl if life else None) or ctx.default_ttl)
            prov.check_ids = frozenset(c.id for c in head.skill.checks if c.id)
        items = lock_items(entries["base"].get(name), entries["head"].get(name), lock_path,
                           head.digest if head else None, content_changed, prov)
        if not items:
            continue
        if change is None:
            folder = entries["head"].get(name) or entries["base"].get(name)
            change = SkillChange(name, "lock", folder.path if folder else None, folder.path if folder else None)
            out.skills.append(change)
        change.items += items
        change.items.sort(key=lambda i: LEVELS.index(i.level))
