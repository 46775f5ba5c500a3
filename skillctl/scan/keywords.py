"""The keyword index behind the rule packs: which lines of a file a rule's regex must look at.

Python's regex engine gets no faster when hundreds of patterns are joined into one
alternation (measured: ~90 s for the 10 MB reference corpora), and even one trie of all
keywords tried at every character costs ~75 ns a character. So each rule pattern is reduced
to literals every match must contain (``required_literals``), and a file is read the cheap
way: split into whitespace-separated tokens (a C-speed split), each distinct token looked up
once per process for the keywords inside it, and only lines holding such a token go on to
the rules' regexes. A keyword never spans whitespace unless it contains some, so a token
holds every keyword occurrence; the few keywords with a space in them ("| sh") are found
with a substring search instead. The result is exactly "the probes of every keyword that
occurs in the line", the same as a full scan (tests compare with brute force).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

try:  # the regex parser moved in 3.11; it is only used to find keywords, never to match
    import re._parser as _sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef,unused-ignore]

FLAGS = re.IGNORECASE | re.MULTILINE
# Letters that case-insensitive regexes equate with an ASCII letter but ``str.lower`` does not
# turn into it ("ſh" matches ``sh`` under IGNORECASE): folded so a keyword search finds them too.
_FOLD_CHARS = {"\u017f": "s", "\u0131": "i", "\u0130": "i", "\u212a": "k"}
_FOLD = str.maketrans(_FOLD_CHARS)
_ASCII_LOWER = str.maketrans({**{chr(c): chr(c + 32) for c in range(65, 91)}, **_FOLD_CHARS})
# Distinct tokens remembered per kind before the memo starts over (a few hundred MB at worst
# would otherwise accumulate over a corpus of thousands of skills).
MAX_MEMO = 500_000


def lowered(text: str) -> str:
    """*text* lower-cased with every character at its offset (``İ`` lower-cases to two), and with
    the few letters a case-insensitive regex equates with ASCII ones folded to them."""
    low = text.lower()
    if len(low) != len(text):
        return text.translate(_ASCII_LOWER)
    return low.translate(_FOLD) if ("\u017f" in low or "\u0131" in low) else low


# Where a keyword must sit inside a whitespace-separated token, from the regex around the
# literal: ``\b`` before or after it (a word edge), or whitespace, ``^`` or ``$`` (a token edge).
START_WORD, START_TOKEN, END_WORD, END_TOKEN = 1, 2, 4, 8
Keyword = tuple[str, int]  # (lower-case literal, edge conditions)
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_SPACE_CATEGORIES = frozenset({"CATEGORY_SPACE", "CATEGORY_UNI_SPACE"})
MAX_CLASS = 6  # a character class of at most this many letters is expanded into the literal
MAX_VARIANTS = 32


def _is_word(ch: str) -> bool:
    r"""A ``\w`` character, as Python's regex engine decides it for str patterns."""
    return ch.isalnum() or ch == "_"


def _spacey(op: Any, arg: Any) -> bool:
    r"""Does this regex item always consume whitespace (``\s``, ``\s+``, a literal blank)?"""
    name = str(op)
    if name == "LITERAL":
        return chr(arg).isspace()
    if name == "IN":
        return bool(arg) and all(
            (str(o) == "CATEGORY" and str(a) in _SPACE_CATEGORIES) or (str(o) == "LITERAL" and chr(a).isspace())
            for o, a in arg)
    if name in _REPEATS:
        lo, _hi, body = arg
        return lo >= 1 and len(body) == 1 and _spacey(*body[0])
    return False


def _start_cond(item: tuple[Any, Any] | None, inherited: int) -> int:
    if item is None:
        return inherited
    op, arg = item
    if str(op) == "AT":
        return START_WORD if str(arg) == "AT_BOUNDARY" else START_TOKEN if str(arg).startswith("AT_BEGINNING") else 0
    return START_TOKEN if _spacey(op, arg) else 0


def _end_cond(item: tuple[Any, Any] | None, inherited: int, then: tuple[Any, Any] | None = None) -> int:
    """Where a literal followed by *item* (and *then* after it) must end inside its token."""
    if item is None:
        return inherited
    op, arg = item
    if str(op) == "AT":
        return END_WORD if str(arg) == "AT_BOUNDARY" else END_TOKEN if str(arg).startswith("AT_END") else 0
    if _spacey(op, arg):
        return END_TOKEN
    if str(op) == "LITERAL" and not _is_word(chr(arg)):
        return END_WORD  # "eval(": the next character is not a word character
    if str(op) in _REPEATS and arg[0] == 0 and len(arg[2]) == 1 and _spacey(*arg[2][0]) and then is not None \
            and str(then[0]) == "LITERAL" and not _is_word(chr(then[1])):
        return END_WORD  # "open\s*(": whitespace or a non-word character follows
    return 0


def _fit(word: str, start: int, end: int) -> int:
    """The conditions that hold for *word*: a word edge only means something next to a word character."""
    cond = start | end
    if not word or not _is_word(word[0]):
        cond &= ~START_WORD
    if not word or not _is_word(word[-1]):
        cond &= ~END_WORD
    return cond


def required_keywords(pattern: str) -> frozenset[Keyword] | None:
    """Lower-case literals, with where each sits, of which every match contains at least one.

    Worked out from the parsed regex (literal runs, small character classes, alternations,
    repeats with a minimum of one). ``None`` means no useful literal exists and the rule must
    look at every line.
    """
    try:
        parsed = _sre_parse.parse(pattern, FLAGS)
    except (re.error, RecursionError):
        return None
    found = _literals(list(parsed), 0, 0)
    if not found or min(len(w) for w, _ in found) < 2:
        return None
    return frozenset(found)


def required_literals(pattern: str) -> frozenset[str] | None:
    """The literals of ``required_keywords`` without their positions."""
    found = required_keywords(pattern)
    return None if found is None else frozenset(w for w, _ in found)


def literal_sets(pattern: str) -> list[frozenset[str]]:
    """Every set of literals the pattern's top level requires (each: one member must occur)."""
    try:
        parsed = _sre_parse.parse(pattern, FLAGS)
    except (re.error, RecursionError):
        return []
    return [frozenset(w for w, _ in c) for c in _candidates(list(parsed), 0, 0)]


def _literals(seq: list, before: int, after: int) -> set[Keyword] | None:
    candidates = _candidates(seq, before, after)
    if not candidates:
        return None
    usable = [c for c in candidates if min(len(w) for w, _ in c) >= 2] or candidates
    return min(usable, key=_cost)


def _class_letters(arg: list) -> list[str] | None:
    """The lower-case letters of a small character class of plain literals (``[pousr]``), else None."""
    if len(arg) > MAX_CLASS or not all(str(o) == "LITERAL" and not chr(c).isspace() for o, c in arg):
        return None
    return sorted({chr(c).lower() for _, c in arg})


def _lead(branch: list) -> tuple[str, list]:
    """The literal run a branch starts with, and the rest of it."""
    n = 0
    while n < len(branch) and str(branch[n][0]) == "LITERAL":
        n += 1
    return "".join(chr(c).lower() for _, c in branch[:n]), branch[n:]


def _candidates(seq: list, before: int, after: int) -> list[set[Keyword]]:
    """Sets of keywords the sequence requires; *before*/*after*: conditions inherited at its ends."""
    candidates: list[set[Keyword]] = []
    runs: list[str] = []  # the literal run being read, in every variant a small class allows
    run_start = 0

    def prev(i: int) -> int:
        return _start_cond(seq[i - 1] if i > 0 else None, before)

    def nxt(i: int) -> int:
        return _end_cond(seq[i] if i < len(seq) else None, after, seq[i + 1] if i + 1 < len(seq) else None)

    def flush(i: int) -> None:
        if runs:
            start, end = prev(run_start), nxt(i)
            candidates.append({(w, _fit(w, start, end)) for w in runs})
            runs.clear()

    for i, (op, arg) in enumerate(seq):
        name = str(op)
        if name == "LITERAL":
            if not runs:
                runs.append("")
                run_start = i
            runs[:] = [r + chr(arg).lower() for r in runs]
            continue
        if name == "IN" and (letters := _class_letters(arg)) is not None \
                and len(letters) * max(len(runs), 1) <= MAX_VARIANTS:
            if not runs:
                runs.append("")
                run_start = i
            runs[:] = [r + ch for r in runs for ch in letters]
            continue
        if name == "BRANCH" and runs:
            leads = [_lead(list(b)) for b in arg[1]]
            if all(lead for lead, _ in leads):
                # The parser factors common prefixes out ("nc|ncat" -> "n" + (c|cat)): glue them back.
                start = prev(run_start)
                candidates.append({(r + lead, _fit(r + lead, start, nxt(i + 1) if not rest else
                                                   _end_cond(rest[0], 0, rest[1] if len(rest) > 1 else None)))
                                   for r in runs for lead, rest in leads})
                runs.clear()
                continue
        flush(i)
        sub: set[Keyword] | None = None
        if name == "BRANCH":
            parts = [_literals(list(branch), prev(i), nxt(i + 1)) for branch in arg[1]]
            sub = set().union(*parts) if all(parts) else None  # type: ignore[arg-type]
        elif name == "SUBPATTERN":
            sub = _literals(list(arg[-1]), prev(i), nxt(i + 1))
        elif name in _REPEATS and arg[0] >= 1:
            sub = _literals(list(arg[2]), 0, 0)
        if sub:
            candidates.append(sub)
    flush(len(seq))
    return candidates


# Words so frequent in skill prose that a keyword equal to one of them filters little.
_COMMON = frozenset({
    "mode", "you", "from", "user", "set", "key", "path", "image", "system", "install", "link", "session",
    "url", "before", "function", "memory", "pass", "request", "upload", "http", "env", "post", "send",
    "add", "run", "new", "data", "file", "code", "must", "first", "report", "email", "line", "lines",
    "output", "show", "token", "prompt", "api", "include", "files", "display", "render", "host",
    "all", "not", "every", "put", "always", "never", "future", "save", "write", "://", "https", "open", "read",
    "tool", "review", "required", "execute", "critical", "important", "echo", "command",
    "copy", "delete", "secret", "curl", "history", "true", "real", "eval", "exec", "append", "config", "json",
})
_STOP = frozenset({"at", "to", "are", "via", "the", "is", "of", "in", "on", "and", "or", "by", "as", "it"})


def _cost(candidate: set[Keyword]) -> float:
    """Rough expected number of lines a keyword set selects: lower is better."""
    total = 0.0
    for word, cond in candidate:
        stripped = word.strip()
        if stripped in _STOP or not stripped.strip("#-=*`|~>"):
            total += 1000
            continue
        base = {1: 1000.0, 2: 200.0, 3: 40.0, 4: 12.0}.get(len(stripped), 5.0)
        if stripped in _COMMON:
            base *= 8
        if any(not ch.isalnum() for ch in stripped):
            base /= 12 if "$" in stripped else 3
        base /= 4 if cond & START_TOKEN else 2 if cond & START_WORD else 1
        base /= 4 if cond & END_TOKEN else 2 if cond & END_WORD else 1
        total += base
    return total


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




class KeywordIndex:
    """Keywords of one file kind, where each must sit, and the probes (by number) each calls for.

    A token is looked up once per process (``_plain``: tokens without a keyword, ``_hot``: the
    probes of those with one). The token scan reports the longest keyword at each position, so
    ``_chain`` lists, for each keyword, itself and every shorter keyword that is a prefix of it
    ("ncat" implies "nc"), each with its position conditions.
    """

    def __init__(self, keywords: dict[Keyword, set[int]], unkeyed: Iterable[int] = ()) -> None:
        by_word: dict[str, dict[int, set[int]]] = {}
        for (word, cond), ids in keywords.items():
            by_word.setdefault(word, {}).setdefault(cond, set()).update(ids)
        solid = sorted(w for w in by_word if not any(ch.isspace() for ch in w))
        self._chain: dict[str, list[tuple[str, int, tuple[int, ...]]]] = {
            word: [(other, cond, tuple(sorted(ids))) for other in solid if word.startswith(other)
                   for cond, ids in sorted(by_word[other].items())]
            for word in solid
        }
        self.spaced = [(w, tuple(sorted(set().union(*by_word[w].values())))) for w in sorted(by_word)
                       if w not in self._chain]
        self._finder = re.compile(f"(?=({_trie_pattern(solid)}))") if solid else None
        self.unkeyed = frozenset(unkeyed)
        self._plain: set[str] = set()
        self._hot: dict[str, tuple[int, ...]] = {}

    def _learn(self, token: str, first: int) -> tuple[int, ...]:
        """The probes whose keyword occurs in *token* where its conditions allow (memoised).

        *first* is where the first keyword starts in the token (``select`` has it already: most
        tokens hold no keyword, and those never get here).
        """
        assert self._finder is not None
        ids: set[int] = set()
        size = len(token)
        for m in self._finder.finditer(token, first):
            pos = m.start()
            for word, cond, found in self._chain[m.group(1)]:
                if cond:
                    end = pos + len(word)
                    if (cond & START_TOKEN and pos) or (cond & END_TOKEN and end != size) \
                            or (cond & START_WORD and pos and _is_word(token[pos - 1])) \
                            or (cond & END_WORD and end < size and _is_word(token[end])):
                        continue
                ids.update(found)
        if not ids:
            self._plain.add(token)
            return ()
        found_ids = self._hot[token] = tuple(ids)
        return found_ids

    def select(self, low: str) -> Iterator[tuple[int, str, list[int]]]:
        """``(line index, lowered line, probe numbers in order)`` for each line of *low* that has any."""
        if len(self._plain) + len(self._hot) > MAX_MEMO:  # start over rather than grow without bound
            self._plain.clear()
            self._hot.clear()
        lines = low.split("\n")
        plain, memo, unkeyed = self._plain, self._hot, self.unkeyed
        search = self._finder.search if self._finder is not None else None
        spaced: dict[int, set[int]] = {}
        for word, ids in self.spaced:
            _occurrences(low, word, ids, spaced)
        for i, line in enumerate(lines):
            tokens = line.split()
            chosen: set[int] | None = None
            if search is not None and not plain.issuperset(tokens):
                chosen = set()
                for token in tokens:
                    if token in plain:
                        continue
                    got = memo.get(token)
                    if got is None:
                        first = search(token)
                        if first is None:  # the common case, kept out of a method call
                            plain.add(token)
                            continue
                        got = self._learn(token, first.start())
                    chosen.update(got)
            if spaced and i in spaced:
                chosen = spaced[i] if chosen is None else chosen | spaced[i]
            if unkeyed:
                chosen = set(unkeyed) if chosen is None else chosen | unkeyed
            if chosen:
                yield i, line, sorted(chosen)


def _occurrences(low: str, needle: str, ids: tuple[int, ...], chosen: dict[int, set[int]]) -> None:
    """Add *ids* to the line (by index) of every occurrence of *needle* in *low*."""
    pos = low.find(needle)
    line, counted = 0, 0
    while pos != -1:
        line += low.count("\n", counted, pos)
        counted = pos
        chosen.setdefault(line, set()).update(ids)
        nl = low.find("\n", pos)
        if nl == -1:
            return
        pos = low.find(needle, nl + 1)
