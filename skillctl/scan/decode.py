"""Decode base64 and hex blobs and hand the plaintext back to the rules.

Attackers encode what a regex would catch (``echo Y3VybC...|base64 -d|sh``). Image data, hashes
and keys decode to binary and are dropped by the printability test, which is what keeps this
cheap and quiet on ordinary skills.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

B64 = re.compile(r"[A-Za-z0-9+/_-]{20,}+={0,2}")
HEX_ONLY = re.compile(r"[0-9A-Fa-f]+")
ESCAPED_HEX = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}")
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,$")
MAX_DEPTH = 2
MAX_BLOB = 64 * 1024


@dataclass(frozen=True)
class Decoded:
    line: int
    encoding: str
    text: str


def _printable(raw: bytes) -> str | None:
    """The decoded bytes as text, if they look like text someone meant to hide."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 6:
        return None
    good = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    if good / len(text) < 0.95 or not re.search(r"[A-Za-z]{2,}", text) or " " not in text.strip():
        # A single token (an identifier that happens to be valid base64) hides no command.
        return None
    return text


def _b64(blob: str) -> bytes | None:
    stripped = blob.rstrip("=")
    if not (re.search(r"[0-9+/_-]", stripped) or (re.search(r"[a-z]", blob) and re.search(r"[A-Z]", blob))):
        return None
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        alt = b"-_" if ("-" in blob or "_" in blob) else None
        return base64.b64decode(padded, altchars=alt, validate=True)
    except (binascii.Error, ValueError):
        return None


# Every character B64 runs over becomes "a", everything else a space, one byte a character.
_RUN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_RUN_MAP = bytes(0x61 if i in _RUN_CHARS else 0x20 for i in range(256))
_LONG_RUN = b"a" * 20


def _b64_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``B64.finditer(text)``, found without running the regex at every letter.

    A match is a maximal run of at least 20 base64 characters (the repeat is possessive), so
    the runs are located on a byte map of the text (latin-1 keeps one byte per character;
    anything else becomes "?", which is no base64 character), and the regex runs only there.
    """
    marks = text.encode("latin-1", "replace").translate(_RUN_MAP)
    at = marks.find(_LONG_RUN)
    while at != -1:
        m = B64.match(text, at)
        if m is None:  # cannot happen: the map and the class are the same characters
            return
        yield m
        at = marks.find(_LONG_RUN, m.end())


def decode_blobs(text: str, depth: int = 1) -> Iterator[Decoded]:
    """Yield every blob in *text* that decodes to readable text, recursively (bounded)."""
    if depth > MAX_DEPTH:
        return
    hits: list[tuple[int, str, str]] = []
    for m in _b64_matches(text):
        blob = m.group()
        if len(blob) > MAX_BLOB or DATA_URI.search(text, max(0, m.start() - 64), m.start()):
            continue
        if len(blob) >= 24 and len(blob) % 2 == 0 and HEX_ONLY.fullmatch(blob):
            plain = _printable(bytes.fromhex(blob))
            if plain:
                hits.append((m.start(), "hex", plain))
            continue
        raw = _b64(blob)
        plain = _printable(raw) if raw else None
        if plain:
            hits.append((m.start(), "base64", plain))
    if "\\x" in text:
        for m in ESCAPED_HEX.finditer(text):
            plain = _printable(bytes.fromhex(m.group().replace("\\x", "")))
            if plain:
                hits.append((m.start(), "hex", plain))
    for offset, encoding, plain in sorted(hits):
        lineno = text.count("\n", 0, offset) + 1
        yield Decoded(lineno, encoding, plain)
        for inner in decode_blobs(plain, depth + 1):
            yield Decoded(lineno, f"{inner.encoding} inside {encoding}", inner.text)
