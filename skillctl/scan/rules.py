"""Declarative rule packs: load ``validators/*.yaml`` (and user packs), compile them once.

Rules are data so that reviewers can read what is flagged and users can add their own packs
without writing Python. A pack is loaded once per process and turned into one combined regex
per file kind; ``RuleSet.match_lines`` then makes a single pass over a file to find the lines
any rule touches, and only those lines are checked rule by rule (for exact attribution).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from skillctl.errors import InputError
from skillctl.repo import stat_identity
from skillctl.safeio import check_budget, read_regular
from skillctl.scan.keywords import (
    FLAGS,
    Keyword,
    KeywordIndex,
    literal_sets,
    lowered,
    required_keywords,
    required_literals,
)
from skillctl.vocab import SEVERITIES

KINDS = ("frontmatter", "body", "scripts", "references")
APPLIES_TO = (*KINDS, "any")
RULE_KEYS = frozenset(
    {"id", "category", "severity", "patterns", "unless", "applies_to", "message", "remediation",
     "case_sensitive", "explainable"}
)
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")
# Inline flags in the middle of a combined pattern are an error since Python 3.11, and
# backreferences would point at the wrong group once patterns are joined: refuse both early.
_FORBIDDEN = re.compile(r"^\(\?[aiLmsux]+\)|\(\?P[<=]|\\[1-9]")


@dataclass(frozen=True)
class Rule:
    """One rule from a pack, with its patterns compiled for per-line confirmation."""

    id: str
    category: str
    severity: str
    patterns: tuple[str, ...]
    applies_to: frozenset[str]
    message: str
    remediation: str
    source: str
    line: int
    unless: tuple[str, ...] = ()
    case_sensitive: bool = False
    explainable: bool = True
    compiled: re.Pattern[str] = field(compare=False, repr=False, default=None)  # type: ignore[arg-type]
    compiled_unless: re.Pattern[str] | None = field(compare=False, repr=False, default=None)
    probes: tuple[re.Pattern[str], ...] = field(compare=False, repr=False, default=())

    def search(self, line: str) -> re.Match[str] | None:
        """The first match of this rule on *line*, unless an ``unless`` pattern exempts it."""
        m = self.compiled.search(line)
        return None if m is None or self.exempt(line) else m

    def exempt(self, line: str) -> bool:
        return self.compiled_unless is not None and self.compiled_unless.search(line) is not None


MAX_PACK_BYTES = 4 * 1024 * 1024


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, so pack errors point at a line."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _wrap(pattern: str, case_sensitive: bool) -> str:
    return f"(?-i:{pattern})" if case_sensitive else f"(?:{pattern})"


def _as_list(value: object, what: str, path: Path, line: int) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputError(f"{what} must be a string or a non-empty list of strings", path, line, "SCAN002")


def _parse_rule(raw: object, path: Path, default_line: int) -> Rule:
    if not isinstance(raw, dict):
        raise InputError("each rule must be a mapping", path, default_line, "SCAN002")
    line = raw.pop("__line__", default_line)
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        raise InputError(f"rule id {rid!r} must look like PACK-NAME-001", path, line, "SCAN002")
    unknown = sorted(set(raw) - RULE_KEYS)
    if unknown:
        raise InputError(f"rule {rid}: unknown key(s) {', '.join(unknown)}", path, line, "SCAN002")
    for key in ("category", "severity", "patterns", "message"):
        if not raw.get(key):
            raise InputError(f"rule {rid}: missing required key {key!r}", path, line, "SCAN002")
    if raw["severity"] not in SEVERITIES:
        raise InputError(
            f"rule {rid}: severity {raw['severity']!r} is not one of {', '.join(SEVERITIES)}",
            path, line, "SCAN002",
        )
    applies = _as_list(raw.get("applies_to", "any"), f"rule {rid}: applies_to", path, line)
    bad = [a for a in applies if a not in APPLIES_TO]
    if bad:
        raise InputError(
            f"rule {rid}: applies_to {bad[0]!r} is not one of {', '.join(APPLIES_TO)}", path, line, "SCAN002"
        )
    kinds = frozenset(KINDS) if "any" in applies else frozenset(applies)
    patterns = _as_list(raw["patterns"], f"rule {rid}: patterns", path, line)
    unless = _as_list(raw["unless"], f"rule {rid}: unless", path, line) if "unless" in raw else []
    case_sensitive = bool(raw.get("case_sensitive", False))
    for pat in (*patterns, *unless):
        if _FORBIDDEN.search(pat):
            raise InputError(
                f"rule {rid}: pattern {pat!r} uses a leading inline flag, a named group or a backreference "
                "(patterns are combined; use case_sensitive: true or (?i:...) scoped flags instead)",
                path, line, "SCAN003",
            )
        try:
            re.compile(_wrap(pat, case_sensitive), FLAGS)
        except re.error as exc:
            raise InputError(f"rule {rid}: invalid regex {pat!r}: {exc}", path, line, "SCAN003") from None
    joined = "|".join(_wrap(p, case_sensitive) for p in patterns)
    return Rule(
        id=rid,
        category=str(raw["category"]),
        severity=raw["severity"],
        patterns=tuple(patterns),
        applies_to=kinds,
        message=str(raw["message"]).strip(),
        remediation=str(raw.get("remediation", "")).strip(),
        source=str(path),
        line=line,
        unless=tuple(unless),
        case_sensitive=case_sensitive,
        explainable=bool(raw.get("explainable", True)),
        compiled=re.compile(joined, FLAGS),
        probes=tuple(re.compile(_wrap(p, case_sensitive), FLAGS) for p in patterns),
        compiled_unless=re.compile("|".join(f"(?:{u})" for u in unless), FLAGS) if unless else None,
    )


def load_pack(path: Path) -> list[Rule]:
    """Parse one pack file; every problem is an ``InputError`` naming the file and line."""
    try:
        text = read_regular(path, MAX_PACK_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read rule pack: {exc}", path, None, "SCAN001") from None
    if len(text) > MAX_PACK_BYTES:
        raise InputError(f"rule pack is larger than {MAX_PACK_BYTES // 1024} KiB", path, None, "SCAN001")
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_budget(node, path)
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"rule pack is not valid YAML: {problem}", path, line, "SCAN001") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise InputError("rule pack must be a mapping with a 'rules' list", path, 1, "SCAN002")
    return [_parse_rule(raw, path, data.get("__line__", 1)) for raw in data["rules"]]


def builtin_pack_dir() -> Path:
    """The shipped packs: ``skillctl/scan/packs/`` (package data, the same path in a wheel).

    The packs are data, not a package: ``packs/`` has no ``__init__.py``, and the repository's
    top-level ``validators`` is a link to it, so nothing named ``validators`` is importable
    (that would shadow the PyPI project of the name).
    """
    return Path(__file__).resolve().parent / "packs"


def pack_files(location: Path) -> list[Path]:
    """A pack directory's ``*.yaml``/``*.yml`` files (sorted), or the file itself."""
    location = Path(location)
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise InputError("rule pack path does not exist", location, None, "SCAN001")
    return sorted(p for p in location.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


# A compiled pattern with the literal sets its matches need besides its keyword: checking
# ``word in line`` first spares most regex runs on lines a keyword selected.
Probe = tuple[Rule, re.Pattern[str], tuple[frozenset[str], ...]]

__all__ = ["KINDS", "Rule", "RuleSet", "load_rules", "required_literals"]


@dataclass
class RuleSet:
    """All active rules, indexed by the literal keywords that every match must contain.

    A rule's regex runs only on the lines holding one of its keywords (``keywords.py`` says how
    those lines are found cheaply). Rules without a usable keyword run on every line of the
    files they apply to.
    """

    rules: list[Rule]
    by_kind: dict[str, list[Rule]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.id in seen:
                first = seen[rule.id]
                raise InputError(
                    f"duplicate rule id {rule.id} (first defined at {first.source}:{first.line})",
                    rule.source, rule.line, "SCAN002",
                )
            seen[rule.id] = rule
        self.by_id = seen
        self.probes: dict[str, list[Probe]] = {}
        self.index: dict[str, KeywordIndex] = {}
        for kind in KINDS:
            rules = [r for r in self.rules if kind in r.applies_to]
            self.by_kind[kind] = rules
            probes: list[Probe] = []
            keywords: dict[Keyword, set[int]] = {}
            unkeyed: list[int] = []
            for rule in rules:  # probe numbers follow the packs' order, so results do too
                for source, compiled in zip(rule.patterns, rule.probes, strict=True):
                    wrapped = _wrap(source, rule.case_sensitive)
                    found = required_keywords(wrapped)
                    chosen = None if found is None else frozenset(w for w, _ in found)
                    number = len(probes)
                    probes.append((rule, compiled, tuple(s for s in literal_sets(wrapped) if s != chosen)))
                    if found is None:
                        unkeyed.append(number)
                    for keyword in found or ():
                        keywords.setdefault(keyword, set()).add(number)
            self.probes[kind] = probes
            self.index[kind] = KeywordIndex(keywords, unkeyed)

    def match_lines(self, text: str, kind: str) -> Iterator[tuple[int, str, Rule, re.Match[str]]]:
        """Yield ``(line_no, line, rule, match)`` for every rule hit (once per rule and line).

        The match is the rule's own (its patterns joined, leftmost first), whichever pattern's
        keyword selected the line.
        """
        probes = self.probes[kind]
        lines: list[str] | None = None
        for i, low, numbers in self.index[kind].select(lowered(text)):
            if lines is None:
                lines = text.split("\n")
            line = lines[i]
            done: set[str] = set()
            for number in numbers:
                rule, probe, needs = probes[number]
                if rule.id in done:
                    continue
                for need in needs:
                    if not any(map(low.__contains__, need)):
                        break
                else:
                    hit = probe.search(line)
                    if hit is not None and not rule.exempt(line):
                        done.add(rule.id)
                        if len(rule.probes) > 1:
                            hit = rule.compiled.search(line) or hit
                        yield i + 1, line, rule, hit

    def scan_line(self, line: str, kind: str) -> Iterator[tuple[Rule, re.Match[str]]]:
        """Every rule of *kind* matching one line (used for decoded or normalised text)."""
        for _line_no, _text, rule, hit in self.match_lines(line, kind):
            yield rule, hit


@lru_cache(maxsize=32)
def _load_cached(locations: tuple[str, ...], identities: tuple[str | None, ...]) -> RuleSet:
    rules: list[Rule] = []
    for loc in locations:
        rules.extend(load_pack(Path(loc)))
    return RuleSet(rules)


def load_rules(extra: Iterable[Path | str] = (), *, builtin: bool = True) -> RuleSet:
    """The built-in packs plus *extra* directories or files, compiled once per process."""
    files: list[Path] = []
    if builtin:
        files.extend(pack_files(builtin_pack_dir()))
    for loc in extra:
        files.extend(pack_files(Path(loc)))
    # The file identity includes the change time: an in-place edit that kept size and mtime
    # (``touch -r``) must not keep a long-running process (mcp, schedule --every) on the old pack.
    identities = tuple(stat_identity(f.stat()) for f in files)
    if None in identities:  # a pack just written (or not a regular file): its identity proves nothing
        return _load_cached.__wrapped__(tuple(str(f) for f in files), identities)
    return _load_cached(tuple(str(f) for f in files), identities)
