"""What changed in one skill between two commits, as items a reviewer can act on.

Each comparison answers a reviewer's question about behaviour or trust: can this skill still
fail its checks, does it now talk to a new host, run new commands, get more tools, live longer
between verifications? Items carry a level: ``danger`` (⚠, leads the verdict: a removed or
defanged check, a blocking finding, a new network destination inside a command), ``warning``
(deserves a look) and ``info`` (context).

Everything quoted from a skill is untrusted: ``code()`` makes it safe to embed in a PR comment.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from skillctl.model import Check, Finding, Skill, parse_ttl
from skillctl.vocab import TRUST_ORDER

LEVELS = ("danger", "warning", "info")
MARKS = {"danger": "⚠", "warning": "△", "info": "·"}
# Order in which kinds lead the verdict (within one level).
KIND_LABELS = {
    "check-removed": "verification check removed",
    "check-weakened": "verification check weakened",
    "host-added": "new host",
    "finding-new": "new scan finding",
    "check-capabilities": "check gets network or secrets",
    "suppression-added": "suppression added",
    "lock-forged": "lock change no verify run produced",
    "parse-error": "SKILL.md does not parse",
    "lock-quarantine": "quarantine lifted",
    "trust-raised": "trust tier raised",
    "version-not-bumped": "content changed without a version bump",
    "version-backwards": "version went backwards",
    "ttl-lengthened": "TTL lengthened",
    "tools-added": "new allowed-tools",
    "check-trivial": "check that cannot fail",
    "command-added": "new shell commands",
    "finding-suppressed": "finding suppressed",
    "file-binary": "binary file",
    "file-symlink": "symlink",
    "pin-removed": "pin removed",
    "pin-loosened": "pin loosened",
    "no-checks": "skill without checks",
    "lock-stale-digest": "content not re-verified",
    "lock-edited": "lock entry edited",
    "config-changed": "skillctl.yaml changed",
    "lock-unreadable": "skills.lock unreadable",
}
_NOOP = r"(?:true|:|exit\s+0|/bin/true|/usr/bin/true)"
_NOOP_LINE = re.compile(rf"^(?:{_NOOP}|exit)$")
_SWALLOW = re.compile(rf"(?:\|\||;)\s*{_NOOP}\s*$")
_PRINT_LINE = re.compile(r"""^(?:echo|printf)(?:\s+-[neE]+)?(?:\s+(?:'[^'$`]*'|"[^"$`]*"|[^\s$`'";|&<>()]+))*$""")
_PY_TRIVIAL = re.compile(r"""^(?:pass|import\s+sys|sys\.exit\(\s*0?\s*\)|exit\(\s*0?\s*\)|"""
                         r"""print\(\s*(?:'[^'{}]*'|"[^"{}]*")\s*\))$""")


@dataclass
class Item:
    """One thing a reviewer should know, with where it is (for annotations) and raw data (for JSON)."""

    kind: str
    level: str
    message: str
    path: str | None = None
    line: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Side:
    """One version of a skill: where it lives, what it parsed to, what the scanner found."""

    folder: str  # git-relative
    skill: Skill | None
    error: str | None
    texts: dict[str, str]
    binary: set[str]
    modes: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    digest: str | None = None
    tier: str | None = None  # effective tier (policy.effective_tier) under the base commit's rules
    refused: str | None = None  # why skill_digest refuses this version (a symlink leaving the repo)
    links: dict[str, Any] = field(default_factory=dict)  # symlink rel -> blobs it reaches in the tree

    def path(self, rel: str = "SKILL.md") -> str:
        return f"{self.folder}/{rel}" if self.folder else rel


def code(value: object, limit: int = 120) -> str:
    """An inline code span that untrusted text cannot break out of (no HTML, links or @mentions)."""
    text = "".join(_visible(ch) for ch in str(value).replace("\r", "").replace("\n", "⏎"))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def plain(text: str) -> str:
    """Prose that may quote a skill: no HTML, links, images or @mentions survive into markdown."""
    table = {"<": "&lt;", ">": "&gt;", "@": "&#64;", "[": "&#91;", "]": "&#93;", "`": "&#96;", "\n": " "}
    return "".join(table.get(ch, _visible(ch)) for ch in text)


def _visible(ch: str) -> str:
    if unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs") and ch != "\t":
        return f"\\u{ord(ch):04x}"
    return ch


# -- skill metadata ----------------------------------------------------------------------------

def compare_metadata(old: Side, new: Side, content_changed: bool, default_ttl: str) -> list[Item]:
    a, b = old.skill, new.skill
    assert a is not None and b is not None
    items: list[Item] = []
    md = new.path()
    va = a.lifecycle.version if a.lifecycle else None
    vb = b.lifecycle.version if b.lifecycle else None
    line = b.key_lines.get("metadata.skillctl.version")
    if va != vb:
        backwards = _older(vb, va)
        items.append(Item("version-backwards" if backwards else "version", "warning" if backwards else "info",
                          f"version {code(va or 'none')} → {code(vb or 'none')}", md, line,
                          {"from": va, "to": vb}))
    elif content_changed:
        items.append(Item("version-not-bumped", "warning",
                          f"content changed without a version bump (still {code(va or 'unversioned')})", md,
                          line, {"version": va}))
    ta = (a.lifecycle.ttl if a.lifecycle else None) or default_ttl
    tb = (b.lifecycle.ttl if b.lifecycle else None) or default_ttl
    da, db = parse_ttl(ta), parse_ttl(tb)
    if ta != tb:
        longer = da is not None and (db is None or db > da)
        items.append(Item("ttl-lengthened" if longer else "ttl", "warning" if longer else "info",
                          f"TTL {code(ta)} → {code(tb)}"
                          + (": a passing verification is now trusted for longer" if longer else ""),
                          md, b.key_lines.get("metadata.skillctl.ttl"), {"from": ta, "to": tb}))
    for key in ("trust", "origin", "owner"):
        xa = getattr(a.lifecycle, key, None) if a.lifecycle else None
        xb = getattr(b.lifecycle, key, None) if b.lifecycle else None
        if xa == xb:
            continue
        raised = key == "trust" and _rank(xb) > _rank(xa)
        items.append(Item("trust-raised" if raised else key, "danger" if raised else "info",
                          f"{key} {code(xa or 'unset')} → {code(xb or 'unset')}"
                          + (": scan findings now block less" if raised else ""),
                          md, b.key_lines.get(f"metadata.skillctl.{key}"), {"from": xa, "to": xb}))
    if a.name != b.name:
        items.append(Item("name", "info", f"name {code(a.name)} → {code(b.name)}", md, b.key_lines.get("name")))
    if a.description != b.description:
        items.append(Item("description", "info", f"description changed (decides when agents load it): "
                          f"{code(b.description, 200)}", md, b.key_lines.get("description"),
                          {"from": a.description, "to": b.description}))
    items += _compare_pins(a, b, md)
    items += _compare_tools(a, b, md)
    return items


def _older(new: str | None, old: str | None) -> bool:
    from skillctl.rot.versioning import parse_version

    if not new or not old:
        return False
    vn, vo = parse_version(new, "semver"), parse_version(old, "semver")
    return vn is not None and vo is not None and vn.key < vo.key


def _rank(tier: str | None) -> int:
    return TRUST_ORDER.index(tier) if tier in TRUST_ORDER else TRUST_ORDER.index("community")


def _compare_pins(a: Skill, b: Skill, md: str) -> list[Item]:
    pa = {(p.datasource, p.package): p for p in (a.lifecycle.pins if a.lifecycle else [])}
    pb = {(p.datasource, p.package): p for p in (b.lifecycle.pins if b.lifecycle else [])}
    items = []
    for key in sorted(pa.keys() | pb.keys()):
        old, new = pa.get(key), pb.get(key)
        label = f"{key[0]}:{key[1]}"
        if old is None and new is not None:
            items.append(Item("pin-added", "info", f"pin added {code(label)} {code(new.version)}", md, new.line))
        elif new is None and old is not None:
            items.append(Item("pin-removed", "warning", f"pin removed {code(label)} {code(old.version)}: "
                              "no longer audited for rot", md, None, {"pin": label}))
        elif old is not None and new is not None and old.version != new.version:
            loosened = _is_exact(old.version) and not _is_exact(new.version)
            items.append(Item("pin-loosened" if loosened else "pin-changed", "warning" if loosened else "info",
                              f"pin {code(label)} {code(old.version)} → {code(new.version)}", md, new.line,
                              {"pin": label, "from": old.version, "to": new.version}))
    return items


def _is_exact(version: str) -> bool:
    return not re.search(r"[<>^~*|xX ]|,", version.strip().lstrip("=v"))


def allowed_tools(value: Any) -> list[str]:
    """``Bash(git status:*) Read`` -> two tools (spaces inside parentheses do not split)."""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    if not isinstance(value, str):
        return []
    return [t.strip() for t in re.findall(r"(?:[^\s(]+(?:\([^)]*\))?)", value) if t.strip()]


def _compare_tools(a: Skill, b: Skill, md: str) -> list[Item]:
    ta, tb = allowed_tools(a.frontmatter.allowed_tools), allowed_tools(b.frontmatter.allowed_tools)
    line = b.key_lines.get("allowed-tools")
    items = []
    added = [t for t in tb if t not in ta]
    removed = [t for t in ta if t not in tb]
    if added:
        items.append(Item("tools-added", "warning", "new allowed-tools (pre-approved, no prompt): "
                          + ", ".join(code(t) for t in added), md, line, {"tools": added}))
    if removed:
        items.append(Item("tools-removed", "info", "allowed-tools removed: " + ", ".join(code(t) for t in removed),
                          md, line, {"tools": removed}))
    return items


def summarize_added(new: Side, default_ttl: str) -> list[Item]:
    """A new skill has no before: say what it is, and what is missing or broad."""
    skill = new.skill
    assert skill is not None
    life = skill.lifecycle
    md = new.path()
    facts = [f"version {code(life.version if life and life.version else 'none')}",
             f"trust {code(life.trust if life and life.trust else 'unset')}",
             f"TTL {code(life.ttl if life and life.ttl else default_ttl)}",
             f"{len(skill.checks)} check(s)", f"{len(life.pins) if life else 0} pin(s)"]
    items = [Item("added", "info", "new skill: " + ", ".join(facts), md)]
    if not skill.checks:
        items.append(Item("no-checks", "warning", "new skill has no verification checks: it can never pass "
                          "`skillctl verify`", md))
    for i, check in enumerate(skill.checks):
        key = check.id or f"#{i + 1} ({check.language})"
        items += _capabilities(key, check, md) + _trivial(key, check, md)
    tools = allowed_tools(skill.frontmatter.allowed_tools)
    if tools:
        items.append(Item("tools-added", "warning", "allowed-tools (pre-approved, no prompt): "
                          + ", ".join(code(t) for t in tools), md, skill.key_lines.get("allowed-tools"),
                          {"tools": tools}))
    return items


# -- verification checks -----------------------------------------------------------------------

def compare_checks(old: Skill | None, new: Skill | None, md: str, default_timeout: float) -> list[Item]:
    ca = _by_id(old.checks if old else [])
    cb = _by_id(new.checks if new else [])
    section = _verification_line(new) if new else None
    items: list[Item] = []
    removed = [k for k in ca if k not in cb]
    added = [k for k in cb if k not in ca]
    for key in list(removed):  # same code under a new id is a rename, not a removal
        twin = next((k for k in added if cb[k].code.strip() == ca[key].code.strip()), None)
        if twin is not None:
            removed.remove(key)
            added.remove(twin)
            items.append(Item("check-renamed", "info", f"check {code(key)} renamed to {code(twin)}", md,
                              cb[twin].line))
    for key in removed:
        items.append(Item("check-removed", "danger", f"verification check {code(key)} removed"
                          + (" (the skill has no checks left)" if not cb else ""),
                          md, section, {"check": key, "code": ca[key].code}))
    for key in added:
        if old is not None:
            items.append(Item("check-added", "info", f"check {code(key)} added: {code(cb[key].code)}", md,
                              cb[key].line, {"check": key}))
        items += _capabilities(key, cb[key], md) + _trivial(key, cb[key], md)
    for key in ca.keys() & cb.keys():
        items += _weakened(key, ca[key], cb[key], md, default_timeout)
    return sorted(items, key=lambda i: (LEVELS.index(i.level), i.line or 0))


def _by_id(checks: list[Check]) -> dict[str, Check]:
    return {c.id or f"#{i + 1} ({c.language})": c for i, c in enumerate(checks)}


def _verification_line(skill: Skill) -> int | None:
    for offset, line in enumerate(skill.body.split("\n")):
        if re.match(r"^ {0,3}#{1,6}\s+verification\s*#*\s*$", line, re.IGNORECASE):
            return skill.body_line + offset
    return skill.checks[0].line if skill.checks else None


def _weakened(key: str, a: Check, b: Check, md: str, default_timeout: float) -> list[Item]:
    items = []
    ka = float(a.attributes["timeout"]) if _num(a.attributes.get("timeout")) else default_timeout
    kb = float(b.attributes["timeout"]) if _num(b.attributes.get("timeout")) else default_timeout
    if kb > ka:
        items.append(Item("check-weakened", "warning", f"check {code(key)} timeout raised {ka:g}s → {kb:g}s",
                          md, b.line, {"check": key, "what": "timeout"}))
    if b.network and not a.network:
        items.append(Item("check-capabilities", "danger", f"check {code(key)} now runs with network access"
                          + (" while holding " + ", ".join(code(e) for e in b.env) if b.env else ""), md,
                          b.line, {"check": key, "what": "network"}))
    new_env = [e for e in b.env if e not in a.env]
    if new_env:
        items.append(Item("check-capabilities", "danger", f"check {code(key)} now receives host environment "
                          + ", ".join(code(e) for e in new_env), md, b.line, {"check": key, "what": "env"}))
    if a.expected_output is not None and b.expected_output is None:
        items.append(Item("check-weakened", "danger", f"check {code(key)} lost its expected output: only the "
                          "exit code is checked now", md, b.line, {"check": key, "what": "output"}))
    elif a.expected_output != b.expected_output:
        items.append(Item("check-output", "info", f"check {code(key)} expects different output", md, b.line))
    if a.code.strip() != b.code.strip():
        why = cannot_fail(b)
        if why and not cannot_fail(a):
            items.append(Item("check-weakened", "danger", f"check {code(key)} can no longer fail ({why}): "
                              f"{code(b.code)}", md, b.line, {"check": key, "what": "trivial"}))
        else:
            items.append(Item("check-changed", "info", f"check {code(key)} now runs {code(b.code)}", md, b.line))
    return items


def _trivial(key: str, check: Check, md: str) -> list[Item]:
    """A new check that cannot fail proves nothing, yet counts towards "all checks passed"."""
    why = cannot_fail(check)
    return [Item("check-trivial", "warning", f"new check {code(key)} cannot fail ({why}): {code(check.code)}",
                 md, check.line, {"check": key})] if why else []


def _capabilities(key: str, check: Check, md: str) -> list[Item]:
    """A new check that asks for the network or host secrets: a reviewer decides, never a default."""
    asks = (["network"] if check.network else []) + [f"env {e}" for e in check.env]
    if not asks:
        return []
    both = " (secrets and network together: refused for community and synthesized skills)" \
        if check.network and check.env else ""
    return [Item("check-capabilities", "danger", f"check {code(key)} gets " + ", ".join(code(a) for a in asks)
                 + both, md, check.line, {"check": key, "network": check.network, "env": check.env})]


def cannot_fail(check: Check) -> str | None:
    """Why *check*, as written, passes whatever the skill does (None when it can still fail).

    A reviewer needs to hear when a check stopped proving anything, and an attacker defangs one
    in the cheapest way that still looks like a check. Checks run under ``bash -e``, so these
    are the forms that cannot fail: every command a no-op (``true``, ``:``, ``exit 0``); the
    last command swallowing the status (``|| true``, ``; exit 0``); an ``EXIT`` trap that exits
    0; errexit switched off (``set +e``) with a no-op last; or commands whose outcome is fixed
    in the text: printing fixed text (``echo``, ``printf``, a heredoc with no expansion, which
    is how expected output gets faked), testing constants (``test 1 = 1``, ``! false``), or a
    trivial ``python -c``. Blank lines and comments are ignored. Not every constant check is
    recognised (that is undecidable); these are the ones seen or cheap to write.
    """
    if check.language == "python":
        lines = [ln for ln in (_strip_comment(x).strip() for x in check.code.split("\n")) if ln]
        if all(_PY_TRIVIAL.match(ln) for ln in lines):
            return "it only prints fixed text" if any(ln.startswith("print") for ln in lines) else "it does nothing"
        return None
    lines, fixed_text = _shell_lines(check.code)
    for ln in lines:
        if _EXIT_TRAP.match(ln):
            return f"its EXIT trap turns every exit into success: {code(ln)}"
    if not lines or all(_NOOP_LINE.match(ln) for ln in lines):
        return "it only prints fixed text" if fixed_text else "it does nothing"
    swallow = _SWALLOW.search(lines[-1])
    if swallow:
        return f"its last command ends in {code(swallow.group(0).lstrip(';|& '))}"
    if re.fullmatch(r"exit\s+0", lines[-1]):
        return "it ends with `exit 0`"
    if _NOOP_LINE.match(lines[-1]) and any(_ERREXIT_OFF.match(ln) for ln in lines):
        return "errexit is switched off and its last command is a no-op"
    if all(_constant(ln) for ln in lines):
        return "it only prints fixed text" if fixed_text or any(_PRINT_LINE.match(ln) for ln in lines) \
            else "it only tests constants"
    return None


_EXIT_TRAP = re.compile(rf"^trap\s+(['\"]?)\s*(?:{_NOOP}|exit)\s*\1\s+(?:\S+\s+)*(?:EXIT|0)(?:\s|$)")
_ERREXIT_OFF = re.compile(r"^set\s+(?:\+[a-zA-Z]*e[a-zA-Z]*|\+o\s+errexit)\b")
_HEREDOC = re.compile(r"""^cat\s*<<-?\s*(['"]?)(\w+)\1\s*$""")
_CONST_TEST = re.compile(r"^(?:test\s+|\[\s+)(?P<args>[^$`;|&<>()]*?)(?:\s+\])?$")
_FILE_OP = re.compile(r"(?:^|\s)-[a-zA-Z]\s")
_PY_C = re.compile(r"""^python3?\s+-c\s+(?:'(?P<sq>[^']*)'|"(?P<dq>[^"$`]*)")$""")


def _constant(line: str) -> bool:
    """Whether one shell line's outcome is fixed by its text (no file, no variable, no program)."""
    if _NOOP_LINE.match(line) or _PRINT_LINE.match(line) or re.fullmatch(r"!\s*(?:false|/bin/false)", line):
        return True
    test = _CONST_TEST.match(line)
    if test and not _FILE_OP.search(" " + test.group("args").replace("-n ", "").replace("-z ", "") + " "):
        return True
    py = _PY_C.match(line)
    if py:
        body = py.group("sq") if py.group("sq") is not None else py.group("dq")
        return all(_PY_TRIVIAL.match(part.strip()) for part in re.split(r"[;\n]", body) if part.strip())
    return False


def _shell_lines(text: str) -> tuple[list[str], bool]:
    """Commands of a shell check without comments and blank lines; a fixed-text heredoc becomes ``:``.

    The flag says a heredoc printed fixed text (so the check "only prints", not "does nothing").
    """
    out: list[str] = []
    fixed = False
    raw = text.split("\n")
    i = 0
    while i < len(raw):
        line = _strip_comment(raw[i]).strip()
        i += 1
        doc = _HEREDOC.match(line)
        if doc:
            body = []
            while i < len(raw) and raw[i].strip() != doc.group(2):
                body.append(raw[i])
                i += 1
            i += 1
            if doc.group(1) or not any(c in "".join(body) for c in "$`"):
                fixed = True
                line = ":"
        if line:
            out.append(line)
    return out, fixed


def _strip_comment(line: str) -> str:
    """*line* without a ``#`` comment that is outside quotes and starts a word."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t;"):
            return line[:i]
    return line


def _num(value: str | None) -> bool:
    try:
        return value is not None and float(value) > 0
    except ValueError:
        return False


# -- scan findings -----------------------------------------------------------------------------

def compare_findings(old: Side | None, new: Side) -> list[Item]:
    before = {(f.rule_id, f.snippet): f for f in (old.findings if old else [])}
    items = []
    for f in new.findings:
        prior = before.get((f.rule_id, f.snippet))
        where = f"{f.rule_id} ({f.severity})"
        if prior is None:
            reason = code(f.suppression_reason or "")
            if f.suppressed:
                level, text = "danger", f"new finding {code(where)} suppressed in this diff: {reason}"
            else:
                level = ("danger" if f.blocking else "warning" if f.severity in ("medium", "high", "critical")
                         else "info")
                text = f"new finding {code(where)}{' (blocking)' if f.blocking else ''}: {plain(f.message)}"
        elif f.suppressed and not prior.suppressed:
            level, text = "danger", f"finding {code(where)} newly suppressed: {code(f.suppression_reason or '')}"
        else:
            continue
        kind = "finding-suppressed" if f.suppressed else "finding-new"
        items.append(Item(kind, level, text + (f" {code(f.snippet)}" if f.snippet else ""), f.path, f.line,
                          {"rule_id": f.rule_id, "severity": f.severity, "blocking": f.blocking}))
    after = {(f.rule_id, f.snippet) for f in new.findings}
    resolved = [f for key, f in before.items() if key not in after and not f.suppressed]
    if resolved:
        items.append(Item("finding-resolved", "info", f"{len(resolved)} finding(s) resolved: "
                          + ", ".join(code(f.rule_id) for f in resolved[:10]), new.path(), None))
    return sorted(items, key=lambda i: LEVELS.index(i.level))


# -- trust -------------------------------------------------------------------------------------

def compare_trust(old: Side | None, new: Side) -> list[Item]:
    """The effective tier moving up (a folder moved under a granted path), and tiers claimed in vain."""
    items: list[Item] = []
    md = new.path()
    if old is not None and old.tier and new.tier and _rank(new.tier) > _rank(old.tier):
        items.append(Item("trust-raised", "danger", f"effective trust tier {code(old.tier)} → {code(new.tier)}: "
                          "its findings block less and its inline suppressions may count", md, None,
                          {"from": old.tier, "to": new.tier}))
    life = new.skill.lifecycle if new.skill is not None else None
    claimed = life.trust if life is not None else None
    if claimed and new.tier and _rank(claimed) > _rank(new.tier):
        items.append(Item("trust-claimed", "warning", f"declares trust {code(claimed)} but the repository grants "
                          f"{code(new.tier)}: a skill cannot raise its own tier (the claim is ignored)", md,
                          new.skill.key_lines.get("metadata.skillctl.trust") if new.skill else None,
                          {"claimed": claimed, "tier": new.tier}))
    return items


def compare_suppressions(old: Side | None, new: Side) -> list[Item]:
    """Every ``skillctl-ignore`` marker this diff adds: a change that hides findings is reviewed first."""
    from skillctl.scan.suppress import MARKER, markers

    def found(side: Side | None) -> set[tuple[str, frozenset[str], str]]:
        out: set[tuple[str, frozenset[str], str]] = set()
        for rel, text in (side.texts.items() if side else ()):
            if MARKER in text:
                out |= {(rel, frozenset(ids), reason) for entries in markers(text).values()
                        for ids, reason, _ in entries}
        return out

    before = found(old)
    lines: dict[tuple[str, frozenset[str], str], int] = {}
    for rel, text in new.texts.items():
        if MARKER in text:
            for covered in markers(text).values():
                for ids, reason, line in covered:
                    lines.setdefault((rel, frozenset(ids), reason), line)
    items = []
    for rel, rule_ids, reason in sorted(found(new) - before, key=lambda t: (t[0], sorted(t[1]), t[2])):
        honoured = "" if new.tier in ("builtin", "team") else f" (not honoured for a {new.tier or 'community'} skill)"
        what = code(", ".join(sorted(rule_ids)) or "?")
        items.append(Item("suppression-added", "danger", f"suppression added for {what}: "
                          f"{code(reason or 'no reason')}{honoured}", new.path(rel), lines.get((rel, rule_ids, reason)),
                          {"rule_id": sorted(rule_ids), "reason": reason}))
    return items


# -- files -------------------------------------------------------------------------------------

def compare_files(old: Side | None, new: Side | None, blobs_old: dict[str, Any],
                  blobs_new: dict[str, Any]) -> tuple[list[tuple[str, str, bool]], list[Item]]:
    """(status, rel, binary) per changed file, plus items for files a reviewer cannot read."""
    files: list[tuple[str, str, bool]] = []
    items: list[Item] = []
    for rel in sorted(blobs_old.keys() | blobs_new.keys()):
        a, b = blobs_old.get(rel), blobs_new.get(rel)
        if a == b:
            continue
        status = "A" if a is None else "D" if b is None else "M"
        side = new if b is not None else old
        binary = side is not None and rel in side.binary
        files.append((status, rel, binary))
        if b is None or new is None:
            continue
        if binary:
            items.append(Item("file-binary", "warning", f"binary file {'added' if a is None else 'changed'}: "
                              f"{code(rel)} (cannot be reviewed as text)", new.path(rel), None))
        if b.mode == "120000" and (a is None or a.mode != "120000"):
            items.append(Item("file-symlink", "warning", f"symlink added: {code(rel)}", new.path(rel), None))
        if b.mode == "100755" and (a is None or a.mode != "100755") and old is not None:
            items.append(Item("file-executable", "info", f"{code(rel)} is now executable", new.path(rel), None))
    return files, items
