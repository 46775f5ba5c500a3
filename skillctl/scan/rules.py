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
from skillctl.safeio import check_budget, read_regular
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
FLAGS = re.IGNORECASE | re.MULTILINE
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

try:  # the regex parser moved in 3.11; it is only used to find keywords, never to match
    import re._parser as _sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]


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
    compiled: re.Pattern[str] = field(compare=False, repr=False, default=None)  # type: ignore[assignment]
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


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lower-case strings of which every match of *pattern* contains at least one, if known.

    Worked out from the parsed regex (literal runs, alternations, repeats with a minimum of
    one). ``None`` means no useful literal exists and the rule must look at every line.
    """
    try:
        parsed = _sre_parse.parse(pattern, FLAGS)
    except (re.error, RecursionError):
        return None
    found = _literals(list(parsed))
    if not found or min(len(s) for s in found) < 2:
        return None
    return frozenset(found)


def literal_sets(pattern: str) -> list[frozenset[str]]:
    """Every set of literals the pattern's top level requires (each: one member must occur)."""
    try:
        parsed = _sre_parse.parse(pattern, FLAGS)
    except (re.error, RecursionError):
        return []
    return [frozenset(c) for c in _candidates(list(parsed))]


def _literals(seq: list) -> set[str] | None:
    candidates = _candidates(seq)
    if not candidates:
        return None
    usable = [c for c in candidates if min(len(w) for w in c) >= 2] or candidates
    return min(usable, key=_cost)


def _candidates(seq: list) -> list[set[str]]:
    candidates: list[set[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append({"".join(run)})
            run.clear()

    for op, arg in seq:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(arg).lower())
            continue
        if name == "BRANCH" and run and all(all(str(o) == "LITERAL" for o, _ in b) for b in arg[1]):
            # The parser factors common prefixes out ("nc|ncat" -> "n" + (c|cat)): glue them back.
            prefix = "".join(run)
            run.clear()
            candidates.append({prefix + "".join(chr(c).lower() for _, c in b) for b in arg[1]})
            continue
        flush()
        sub: set[str] | None = None
        if name == "BRANCH":
            parts = [_literals(list(branch)) for branch in arg[1]]
            sub = set().union(*parts) if all(parts) else None  # type: ignore[arg-type]
        elif name == "SUBPATTERN":
            sub = _literals(list(arg[-1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
            sub = _literals(list(arg[2]))
        if sub:
            candidates.append(sub)
    flush()
    return candidates


# Words so frequent in skill prose that a keyword equal to one of them filters little.
_COMMON = frozenset({
    "mode", "you", "from", "user", "set", "key", "path", "image", "system", "install", "link", "session",
    "url", "before", "function", "memory", "pass", "request", "upload", "http", "env", "post", "send",
    "add", "run", "new", "data", "file", "code", "must", "first", "report", "email", "line", "lines",
    "output", "show", "token", "prompt", "api", "include", "files", "display", "render", "host",
    "all", "not", "every", "put", "always", "never", "future", "save", "write",
})
_STOP = frozenset({"at", "to", "are", "via", "the", "is", "of", "in", "on", "and", "or", "by", "as", "it"})


def _cost(candidate: set[str]) -> float:
    """Rough expected number of lines a keyword set selects: lower is better."""
    total = 0.0
    for word in candidate:
        stripped = word.strip()
        if stripped in _STOP or not stripped.strip("#-=*`|~>"):
            total += 1000
            continue
        base = {1: 1000.0, 2: 200.0, 3: 40.0, 4: 12.0}.get(len(stripped), 5.0)
        if stripped in _COMMON:
            base *= 8
        if any(not ch.isalnum() for ch in stripped):
            base /= 3
        total += base
    return total


# A compiled pattern with the literal sets its matches need besides its keyword: checking
# ``word in line`` first spares most regex runs on lines a keyword selected.
Probe = tuple[Rule, re.Pattern[str], tuple[frozenset[str], ...]]


@dataclass
class RuleSet:
    """All active rules, indexed by the literal keywords that every match must contain.

    Joining hundreds of patterns into one alternation is what Python's regex engine is worst
    at (measured: ~90 s for the 10 MB reference corpora). Instead each file is lower-cased
    once, each distinct keyword is located with a substring search, and a rule's regex runs
    only on the lines holding one of its keywords. Rules without a usable keyword run on
    every line of the files they apply to.
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
        self.keywords: dict[str, dict[str, list[Probe]]] = {}
        self.unkeyed: dict[str, list[Probe]] = {}
        self.finders: dict[str, re.Pattern[str] | None] = {}
        self.overlapping: dict[str, re.Pattern[str] | None] = {}
        for kind in KINDS:
            rules = [r for r in self.rules if kind in r.applies_to]
            self.by_kind[kind] = rules
            index: dict[str, list[Probe]] = {}
            unkeyed: list[Probe] = []
            for rule in rules:
                for source, compiled in zip(rule.patterns, rule.probes, strict=True):
                    wrapped = _wrap(source, rule.case_sensitive)
                    lits = required_literals(wrapped)
                    probe = (rule, compiled, tuple(s for s in literal_sets(wrapped) if s != lits))
                    if lits is None:
                        unkeyed.append(probe)
                    for word in lits or ():
                        index.setdefault(word, []).append(probe)
            # A line is searched for the longest keyword at each position, so a keyword also
            # stands for every shorter keyword that is a prefix of it ("ncat" implies "nc").
            for word in list(index):
                for other in index:
                    if other != word and word.startswith(other):
                        index[word] = index[word] + [p for p in index[other] if p not in index[word]]
            self.keywords[kind] = index
            self.unkeyed[kind] = unkeyed
            trie = _trie_pattern(index)
            self.finders[kind] = re.compile(trie) if index else None
            self.overlapping[kind] = re.compile(f"(?=({trie}))") if index else None

    def _lines(self, text: str, kind: str) -> Iterator[tuple[int, int, str, list[Probe]]]:
        """``(start, end, lowered line, probes)`` for each line holding a keyword, in order.

        One regex pass finds every keyword occurrence (overlapping, so "ssh/id_" inside
        ".ssh/id_rsa" is not hidden by a shorter keyword that starts earlier).
        """
        overlapping = self.overlapping.get(kind)
        if overlapping is None:
            return
        low = text.lower()
        if len(low) != len(text):  # a few code points change length when lower-cased
            low = text.translate(_ASCII_LOWER)
        finder = self.finders[kind]
        first = finder.search(low) if finder is not None else None
        if first is None:
            return
        index = self.keywords[kind]
        start = stop = -1
        words: set[str] = set()
        for m in overlapping.finditer(low, low.rfind("\n", 0, first.start()) + 1):
            pos = m.start()
            if pos > stop:
                if words:
                    yield start, stop, low[start:stop], [p for w in words for p in index[w]]
                    words = set()
                start = low.rfind("\n", 0, pos) + 1
                stop = low.find("\n", pos)
                if stop == -1:
                    stop = len(low)
            words.add(m.group(1))
        if words:
            yield start, stop, low[start:stop], [p for w in words for p in index[w]]

    def match_lines(self, text: str, kind: str) -> Iterator[tuple[int, str, Rule, re.Match[str]]]:
        """Yield ``(line_no, line, rule, match)`` for every rule hit (once per rule and line)."""
        unkeyed = self.unkeyed[kind]
        spans = self._all_lines(text, kind, unkeyed) if unkeyed else self._lines(text, kind)
        line_no, counted = 1, 0
        for start, stop, low, probes in spans:
            line_no += text.count("\n", counted, start)
            counted = start
            line = text[start:stop]
            done: set[str] = set()
            for rule, probe, needs in probes:
                if rule.id in done:
                    continue
                for need in needs:
                    if not any(map(low.__contains__, need)):
                        break
                else:
                    hit = probe.search(line)
                    if hit is not None and not rule.exempt(line):
                        done.add(rule.id)
                        yield line_no, line, rule, hit

    def _all_lines(self, text: str, kind: str, unkeyed: list[Probe]) -> Iterator[tuple[int, int, str, list[Probe]]]:
        keyed = {start: probes for start, _stop, _low, probes in self._lines(text, kind)}
        start = 0
        for line in text.split("\n"):
            yield start, start + len(line), line.lower(), [*keyed.get(start, ()), *unkeyed]
            start += len(line) + 1

    def scan_line(self, line: str, kind: str) -> Iterator[tuple[Rule, re.Match[str]]]:
        """Every rule of *kind* matching one line (used for decoded or normalised text)."""
        for _line_no, _text, rule, hit in self.match_lines(line, kind):
            yield rule, hit


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many literals, as a trie, so the engine tries one branch per position."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@lru_cache(maxsize=32)
def _load_cached(locations: tuple[str, ...], mtimes: tuple[float, ...]) -> RuleSet:
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
    mtimes = tuple(f.stat().st_mtime for f in files)
    return _load_cached(tuple(str(f) for f in files), mtimes)
