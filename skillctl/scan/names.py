"""Lookalike skill names: typosquats and homoglyphs of skills users already trust.

The Feb 2026 hub incident relied on names one keystroke away from popular skills. A name is
judged against a fixed reference: a shipped list of well-known skill names from the public
collections (``data/well-known-names.txt``) plus the repository's own established names (the
skills ``skills.lock`` already records as verified). Only the newcomer can be the impostor: a
name on the reference is never flagged, and the other skills of the same run play no part, so
a verdict is the same whether a skill is scanned alone or in any batch. An exact copy of a
reference name is fine (that is how skills are vendored), and so is a difference in letter case
alone (``Skill-Creator``): neither is a homoglyph. A near miss is flagged.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

WELL_KNOWN_FILE = Path(__file__).resolve().parent / "data" / "well-known-names.txt"
# Lock statuses whose names the repository has vouched for; a quarantined or draft entry is
# exactly what may be impersonating, so it is no reference.
ESTABLISHED_STATUSES = frozenset({"active", "stale", "failing", "retired"})


@lru_cache(maxsize=1)
def well_known() -> frozenset[str]:
    """The shipped reference list (one name a line, ``#`` comments)."""
    lines = WELL_KNOWN_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(n for line in lines if (n := line.split("#", 1)[0].strip()))


def established_names(root: Path | None) -> frozenset[str]:
    """Names ``skills.lock`` under *root* records as established; empty without a readable lock."""
    if root is None:
        return frozenset()
    from skillctl.errors import SkillctlError
    from skillctl.lock import read_lock

    try:
        lock = read_lock(Path(root))
    except SkillctlError:
        return frozenset()  # an unreadable lock is reported by the commands that need it
    return frozenset(name for name, entry in lock.skills.items() if entry.status in ESTABLISHED_STATUSES)


_FOLD = str.maketrans({
    "0": "o", "1": "l", "i": "l", "|": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
    "_": "-", ".": "-", " ": "-",
})
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("--", "-"))


@lru_cache(maxsize=65536)
def fold(name: str) -> str:
    """A skeleton of *name* in which look-alike characters collapse to one spelling."""
    text = unicodedata.normalize("NFKD", name.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(_CONFUSABLE.get(c, c) for c in text).translate(_FOLD)
    for a, b in _MULTI:
        text = text.replace(a, b)
    return text.strip("-")


# Cyrillic and Greek letters that render like Latin ones.
_CONFUSABLE = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "һ": "h", "ԁ": "d", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h", "ɩ": "l", "ӏ": "l", "ɡ": "g", "ο": "o",
    "α": "a", "ε": "e", "ν": "v", "κ": "k", "ρ": "p", "τ": "t",
}


def distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count 1), giving up past *limit*."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]



def _deletions(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class NameIndex:
    """The reference names, indexed by deletion neighbourhoods so a lookup is not O(n).

    Two names within edit distance *d* share a string obtained by deleting at most *d*
    characters from each (SymSpell), so only those candidates get a real distance check.
    A looked-up name is expanded one deletion deep, reference names one deep, or two deep when
    long (one substitution plus one insertion or deletion).
    """

    def __init__(self, established: Iterable[str] = ()) -> None:
        self.names = frozenset(established) | well_known()
        self.lowered = frozenset(_spelling(n) for n in self.names)
        self.joined = frozenset(n.replace("-", "") for n in self.lowered)
        # Words the reference itself uses as name parts ("codex", "meme"): a name that swaps in
        # one of them is a different skill (codex-review, meme-factory), not a misspelling.
        self.parts = frozenset(part for n in self.names for part in n.lower().split("-") if len(part) >= 3)
        self.exact: dict[str, set[str]] = {}
        self.near: dict[str, set[str]] = {}
        for name in self.names:
            folded = fold(name)
            self.exact.setdefault(folded, set()).add(name)
            self.exact.setdefault(folded.replace("-", ""), set()).add(name)
            if len(name) < 5:
                continue
            for key in _deletions(folded, 2 if len(name) >= 8 else 1):
                self.near.setdefault(key, set()).add(name)

    def lookalike(self, name: str) -> tuple[str, str] | None:
        """The reference name *name* imitates and how (``homoglyph``, ``typo``, ``non-ascii``), else None."""
        if not name or _spelling(name) in self.lowered or _spelling(name).replace("-", "") in self.joined:
            return None  # a reference name itself, in other letter case, with other separators or none
        folded = fold(name)
        for other in sorted(self.exact.get(folded, set()) | self.exact.get(folded.replace("-", ""), set())):
            return other, "homoglyph" if fold(other) == folded else "typo"
        if not name.isascii() and any(_latin_like(c) for c in name if not c.isascii()):
            return name, "non-ascii"
        candidates: set[str] = set()
        for key in _deletions(folded, 1):
            candidates.update(self.near.get(key, ()))
        for other in sorted(candidates):
            if fold(other) == folded:
                continue
            limit = 1 if len(other) < 8 else 2
            if not _is_family(_spelling(name), other) and not self._other_word(name, other) \
                    and distance(folded, fold(other), limit) <= limit \
                    and _slip(folded, fold(other)) and not _replaced_word(name, other):
                return other, "typo"
        return None


    def _other_word(self, name: str, other: str) -> bool:
        """Does *name* differ from *other* in one hyphen-part that is itself a reference word?"""
        a, b = name.lower().split("-"), other.lower().split("-")
        if len(a) != len(b):
            return False
        diffs = [x for x, y in zip(a, b, strict=True) if x != y]
        return len(diffs) == 1 and diffs[0] in self.parts


_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_AT = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
# Letters that read alike in a small sans-serif font (fold() already merges 0/o, 1/l/i, rn/m ...).
_LOOK_ALIKE = frozenset(frozenset(p) for p in ("mn", "uv", "ce", "gq", "pq", "bd", "hn", "nr", "ao", "yv"))


def _latin_like(char: str) -> bool:
    """Could *char* pass for a Latin letter or digit (Cyrillic а, accented é, fullwidth ａ)?

    Names written in another script ("图像生成"), emoji and dashes of a display name imitate
    nothing: a homoglyph has to be read as the ASCII character it replaces.
    """
    if char in _CONFUSABLE:
        return True
    return any(c.isascii() and c.isalnum() for c in unicodedata.normalize("NFKD", char))


def _near_keys(a: str, b: str) -> bool:
    """Are *a* and *b* neighbours on a QWERTY keyboard (same row or the row above or below)?"""
    if a not in _KEY_AT or b not in _KEY_AT:
        return False
    (ra, ia), (rb, ib) = _KEY_AT[a], _KEY_AT[b]
    return abs(ra - rb) <= 1 and abs(ia - ib) <= 1 and (ra, ia) != (rb, ib)


def _slip(a: str, b: str) -> bool:
    """Could a typist or a reader mistake one for the other? (Both folded, within edit distance.)

    A dropped, doubled or swapped letter always could. A single swapped-in letter only when it
    sits next to the right one on the keyboard or looks like it: "brainstormimg" (n/m) and
    "testinq" (g/q) are slips; "email" for "gmail" and "gimhub" for "github" are other words.
    """
    if len(a) != len(b):
        # a letter added or dropped at the very start makes another word ("mail", "gmail")
        return a[1:] != b and b[1:] != a
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(diffs) != 1:
        return True  # a swap of neighbours, or two changes a long name allows
    x, y = diffs[0]
    return _near_keys(x, y) or frozenset((x, y)) in _LOOK_ALIKE


def _replaced_word(name: str, other: str) -> bool:
    """Does *name* swap one hyphen-part of *other* for a different word ("cv-builder", "mcp-builder")?

    A typo changes a few letters of a word; when more than half of the part differs, the
    author wrote another word (typically a short abbreviation), not a misspelling.
    """
    a, b = _spelling(name).split("-"), _spelling(other).split("-")
    if len(a) != len(b) or len(a) < 2:
        return False
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(diffs) != 1:
        return False
    x, y = diffs[0]
    return distance(x, y, 3) * 2 > min(len(x), len(y))


def _spelling(name: str) -> str:
    """*name* as typed into a folder: ``Skill Creator`` and ``skill_creator`` are ``skill-creator``."""
    return "-".join(name.lower().replace("_", " ").replace("-", " ").split())


def lookalike(name: str, established: Iterable[str] = ()) -> tuple[str, str] | None:
    """One-off lookup (see ``NameIndex`` when checking many names against the same reference)."""
    return NameIndex(established).lookalike(name)


def _is_family(name: str, other: str) -> bool:
    """``writing-plans`` vs ``writing-plan``, ``gh-fix-cli`` vs ``gh-fix-ci``, ``fsdp2`` vs ``fsdp``: related.

    Plural/singular pairs and names that differ in a whole hyphen-separated word are how
    collections name related skills; typosquats change letters inside a word.
    """
    a, b = name.split("-"), other.split("-")
    if len(a) != len(b):
        return True
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(diffs) != 1:
        return False
    x, y = diffs[0]
    # a version number appended ("pytorch-fsdp2") names a successor, not a slip of the keyboard
    digits = "0123456789"
    versioned = x.rstrip(digits) == y.rstrip(digits) and (x[-1:].isdigit() or y[-1:].isdigit())
    return x.rstrip("s") == y.rstrip("s") or (x.isdigit() and y.isdigit()) or versioned or _derived(x, y)


_ADDED = ("r", "er", "s", "es", "o", "d", "ed", "ing")
_ENDINGS = frozenset({"or", "ion", "er", "ing", "ed", "ation", "ator", "ive", "ist", "ism", "ure"})


def _derived(x: str, y: str) -> bool:
    """One word derived from the other: "summarizer" from "summarize", "pro" from "pr",
    "ideator" and "ideation" from one stem. A misspelling changes letters inside a word."""
    if any(x == y + s or y == x + s for s in _ADDED):
        return True
    stem = 0
    while stem < min(len(x), len(y)) and x[stem] == y[stem]:
        stem += 1
    return stem >= 4 and x[stem:] in _ENDINGS and y[stem:] in _ENDINGS
