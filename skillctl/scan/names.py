"""Lookalike skill names: typosquats and homoglyphs of skills users already trust.

The Feb 2026 hub incident relied on names one keystroke away from popular skills. A name is
compared, after folding confusable characters, with the other skills of the repository and
with a list of widely installed skill names; an exact copy of a popular name is fine (that is
how skills are vendored), a near miss is not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Widely installed skill names (the public Anthropic, OpenAI, superpowers and Hermes
# collections and the most downloaded hub skills) that impostors imitate.
POPULAR = frozenset({
    "algorithmic-art", "brand-guidelines", "canvas-design", "doc-coauthoring", "docx", "frontend-design",
    "internal-comms", "mcp-builder", "pdf", "pptx", "skill-creator", "slack-gif-creator", "theme-factory",
    "web-artifacts-builder", "webapp-testing", "xlsx", "claude-api", "skill-installer", "gh-address-comments",
    "gh-fix-ci", "create-plan", "linear", "notion-knowledge-capture", "notion-meeting-intelligence",
    "notion-research-documentation", "notion-spec-to-implementation", "brainstorming",
    "dispatching-parallel-agents", "executing-plans", "finishing-a-development-branch",
    "receiving-code-review", "requesting-code-review", "subagent-driven-development",
    "systematic-debugging", "test-driven-development", "using-git-worktrees", "using-superpowers",
    "verification-before-completion", "writing-plans", "writing-skills", "github", "github-pr",
    "google-workspace", "gmail", "google-calendar", "google-drive", "slack", "notion", "obsidian",
    "web-search", "web-scraper", "browser-use", "playwright", "docker", "kubernetes", "aws", "terraform",
    "postgres", "sqlite", "jupyter", "arxiv", "youtube-transcript", "weather", "summarize",
    "code-review", "git-commit", "pdf-tools", "excel", "powerpoint", "crypto-wallet", "solana",
    "wallet-tracker", "polymarket", "trading-bot", "clawhub", "openclaw", "hermes", "ollama",
    "huggingface", "openai", "anthropic", "stripe", "discord", "telegram", "twitter", "whatsapp",
})

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


CROWDED = 8


def _deletions(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class NameIndex:
    """Names to compare against, indexed by deletion neighbourhoods so a lookup is not O(n).

    Two names within edit distance *d* share a string obtained by deleting at most *d*
    characters from each (SymSpell), so only those candidates get a real distance check.
    A name is looked up one deletion deep; repository names are indexed one deletion deep
    (typos of one keystroke), popular names two deep when long (one substitution plus one
    insertion or deletion). Keys shared by many names (numbered families) are ignored.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = frozenset(names) | POPULAR
        self.exact: dict[str, set[str]] = {}
        self.near: dict[str, set[str]] = {}  # repository names, one deletion deep
        self.near_popular: dict[str, set[str]] = {}  # popular names, two deep when long
        for name in self.names:
            folded = fold(name)
            self.exact.setdefault(folded, set()).add(name)
            self.exact.setdefault(folded.replace("-", ""), set()).add(name)
            if len(name) < 5:
                continue
            if name in POPULAR:
                for key in _deletions(folded, 2 if len(name) >= 8 else 1):
                    self.near_popular.setdefault(key, set()).add(name)
            else:
                for key in _deletions(folded, 1):
                    self.near.setdefault(key, set()).add(name)

    def lookalike(self, name: str) -> tuple[str, str] | None:
        """The trusted name *name* imitates and how (``homoglyph``, ``typo``, ``non-ascii``), else None."""
        if not name:
            return None
        folded = fold(name)
        for other in sorted(self.exact.get(folded, set()) | self.exact.get(folded.replace("-", ""), set())):
            if other == name:
                continue
            if other not in POPULAR and not _disguised(name) and (_disguised(other) or "-" in name):
                continue  # the plain spelling of a pair is the original, not the impostor
            return other, "homoglyph" if fold(other) == folded else "typo"
        if not name.isascii():
            return name, "non-ascii"
        candidates: set[str] = set()
        for key in _deletions(folded, 1):
            bucket = self.near.get(key, ())
            if len(bucket) <= CROWDED:  # numbered families (x-1, x-2 ...) are siblings, not squats
                candidates.update(bucket)
            candidates.update(self.near_popular.get(key, ()))
        for other in sorted(candidates):
            if other == name or fold(other) == folded:
                continue
            limit = 1 if len(other) < 8 else 2
            if not _is_family(name, other) and distance(folded, fold(other), limit) <= limit:
                return other, "typo"
        return None


def _disguised(name: str) -> bool:
    """Does *name* use the substitutions impostors use (digits for letters, non-ASCII)?"""
    return not name.isascii() or any(ch in "013457|8" for ch in name)


def lookalike(name: str, others: Iterable[str]) -> tuple[str, str] | None:
    """One-off lookup (see ``NameIndex`` when checking many names against the same set)."""
    return NameIndex(others).lookalike(name)


def _is_family(name: str, other: str) -> bool:
    """``writing-plan`` vs ``writing-plans``; ``gh-fix-ci`` vs ``gh-fix-cli``: related, not squatting.

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
    return x.rstrip("s") == y.rstrip("s") or (x.isdigit() and y.isdigit())
