"""Invisible Unicode: text an agent reads but a reviewer cannot see.

Tag characters (U+E0000–E007F) spell ASCII invisibly and are decoded so the report shows the
hidden instruction. Bidi overrides reorder what a reviewer sees (Trojan Source). Zero-width
characters hide words from regexes (``cu\u200brl``) or carry bits; a stray one pasted from a web
page is common and harmless, so a lone zero-width character in prose rates low, while emoji
joiners and joiners inside Arabic or Indic words are not reported at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from skillctl.scan.context import in_string

TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\u180e\ufeff]")
ANY_HIDDEN = re.compile("[\u200b-\u200d\u2060-\u2064\u180e\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]")
ZW_RUN = re.compile("[\u200b\u200c\u200d\u2060]{8,}")
BLACK_FLAG = "\U0001f3f4"


@dataclass(frozen=True)
class Hidden:
    """One invisible-character finding before it becomes a ``Finding``."""

    rule_id: str
    severity: str
    line: int
    message: str
    snippet: str
    decoded: str = ""


def _decode_tags(run: str) -> str:
    return "".join(chr(ord(c) - 0xE0000) if 0x20 <= ord(c) - 0xE0000 < 0x7F else "" for c in run)


def _joiner_is_legit(text: str, i: int) -> bool:
    """ZWJ between emoji, or ZWJ/ZWNJ inside a word of a script that uses them."""
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if not prev or not nxt:
        return False
    if unicodedata.category(prev) == "So" or ord(prev) in (0xFE0F,) or ord(prev) >= 0x1F000:
        return unicodedata.category(nxt) == "So" or ord(nxt) >= 0x1F000
    return ord(prev) >= 0x0590 and ord(nxt) >= 0x0590 and prev.isalpha() and nxt.isalpha()


_ESCAPE = re.compile(r"\\(?:[uU][0-9a-fA-F]{4,8}|x[0-9a-fA-F]{2}|N\{[^}]*\}|.)")
_QUOTES = "\"'`"


def character_list(line: str, positions: list[int], *, rest_of_line: bool) -> bool:
    """Are the invisible characters at *positions* a detector's list of characters, hiding nothing?

    They must sit in string literals with nothing visible among them but punctuation and escapes
    (``"[\u200b-\u200f\U000e0000-\U000e007f]"`` written raw), so no word is split or hidden. A bidi
    control also reorders what follows it on the line (Trojan Source), so for those the rest of the
    line (*rest_of_line*) must hold no letter or digit either.
    """
    if not positions or not all(in_string(line, p) for p in positions):
        return False
    end = len(line) if rest_of_line else _string_end(line, positions[-1])
    span = _ESCAPE.sub("", ANY_HIDDEN.sub("", line[positions[0]:end]))
    return not any(c.isalnum() for c in span)


def _string_end(line: str, pos: int) -> int:
    """Where the string literal holding character *pos* closes (or the end of the line)."""
    i = pos
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] in _QUOTES:
            return i
        i += 1
    return len(line)


def strip_invisible(text: str) -> str:
    """*text* without the characters this module reports, for re-scanning with the rules."""
    return ANY_HIDDEN.sub("", text)


def find_hidden(text: str, *, code: bool) -> Iterator[Hidden]:
    """Report invisible characters in *text* (``code`` for scripts, where any is suspicious)."""
    if ANY_HIDDEN.search(text) is None:
        return
    for lineno, line in enumerate(text.split("\n"), start=1):
        if ANY_HIDDEN.search(line) is None:
            continue
        for m in TAG_RUN.finditer(line):
            if m.start() > 0 and line[m.start() - 1] == BLACK_FLAG and m.group().endswith("\U000e007f"):
                continue  # subdivision flag emoji (England, Scotland, Wales)
            decoded = _decode_tags(m.group())
            yield Hidden(
                "UNI-TAG-001", "critical", lineno,
                f"{len(m.group())} invisible Unicode tag characters spell hidden text: {decoded!r}",
                strip_invisible(line).strip()[:160], decoded,
            )
        bidi = BIDI.findall(line)
        if bidi:
            names = ", ".join(sorted({f"U+{ord(c):04X}" for c in bidi}))
            listed = code and character_list(line, [m.start() for m in ANY_HIDDEN.finditer(line)], rest_of_line=True)
            yield Hidden(
                "UNI-BIDI-001", "low" if listed else "high", lineno,
                f"bidirectional override characters ({names}) "
                + ("written as a list of characters in a string (they reorder no code)" if listed
                   else "make the text display differently from how it is read"),
                strip_invisible(line).strip()[:160],
            )
        run = ZW_RUN.search(line)
        if run:
            bits = run.group().replace("\u200b", "0").replace("\u200c", "1")
            decoded = ""
            if set(bits) <= {"0", "1"} and len(bits) >= 8:
                decoded = "".join(chr(int(bits[i:i + 8], 2)) for i in range(0, len(bits) - 7, 8))
                decoded = "".join(c for c in decoded if c.isprintable())
            yield Hidden(
                "UNI-ZW-002", "high", lineno,
                f"a run of {len(run.group())} zero-width characters encodes hidden data"
                + (f": {decoded!r}" if decoded else ""),
                strip_invisible(line).strip()[:160], decoded,
            )
            continue
        zw = [m.start() for m in ZERO_WIDTH.finditer(line)
              if not (line[m.start()] == "\ufeff" and lineno == 1 and m.start() == 0)
              and not (line[m.start()] in "\u200c\u200d" and _joiner_is_legit(line, m.start()))]
        if not zw:
            continue
        inside_word = any(0 < i < len(line) - 1 and line[i - 1].isalnum() and line[i + 1].isalnum() for i in zw)
        listed = code and not inside_word and character_list(line, zw, rest_of_line=False)
        severity = "medium" if (code and not listed) or (inside_word and len(zw) > 1) else "low"
        yield Hidden(
            "UNI-ZW-001", severity, lineno,
            f"{len(zw)} zero-width character(s) "
            + ("inside a word, hiding it from search and review" if inside_word else "in the text"),
            strip_invisible(line).strip()[:160],
        )
