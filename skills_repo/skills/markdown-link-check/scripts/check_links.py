#!/usr/bin/env python3
"""Check relative links and #anchors in Markdown files, offline.

External links (http, https, mailto, ...) are counted and skipped: checking them needs the
network and is flaky by nature. Relative links must point to an existing file or folder,
and a #fragment must match a heading in the target (GitHub's slug rules) or an explicit
<a id="..."> / <a name="..."> anchor. Links inside code fences and inline code are ignored.
Exit status 1 when any link is broken.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:[^>]*?\s)?(?:id|name)=\"([^\"]+)\"", re.I)
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def slugify(text: str) -> str:
    """GitHub-style heading id: lower-case, drop punctuation except '-' and '_', spaces -> '-'."""
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def visible_lines(text: str):
    """Yield (line number, line) outside fenced code blocks, with inline code blanked."""
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        m = FENCE.match(line)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is None:
            yield number, re.sub(r"`[^`]*`", "``", line)


def anchors(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        found: set[str] = set()
        counts: dict[str, int] = {}
        for _, line in visible_lines(path.read_text(encoding="utf-8")):
            found.update(HTML_ANCHOR.findall(line))
            m = HEADING.match(line)
            if m:
                slug = slugify(m.group(2))
                n = counts.get(slug, 0)
                counts[slug] = n + 1
                found.add(slug if n == 0 else f"{slug}-{n}")
        cache[path] = found
    return cache[path]


def check_file(md: Path, cache: dict[Path, set[str]]) -> tuple[list[str], int, int]:
    broken, checked, external = [], 0, 0
    for number, line in visible_lines(md.read_text(encoding="utf-8")):
        targets = INLINE.findall(line)
        ref = REFDEF.match(line)
        if ref:
            targets.append(ref.group(1))
        for target in targets:
            if SCHEME.match(target) or target.startswith("//"):
                external += 1
                continue
            checked += 1
            raw_path, _, fragment = target.partition("#")
            dest = (md.parent / unquote(raw_path.split("?")[0])).resolve() if raw_path else md.resolve()
            if not dest.exists():
                broken.append(f"{md}:{number}: {target}: file not found")
            elif (
                fragment
                and dest.is_file()
                and dest.suffix.lower() in (".md", ".markdown")
                and unquote(fragment).lower() not in {a.lower() for a in anchors(dest, cache)}
            ):
                broken.append(f"{md}:{number}: {target}: no heading or anchor #{fragment}")
    return broken, checked, external


def main(args: list[str]) -> int:
    if not args:
        print("usage: check_links.py FILE_OR_DIR...", file=sys.stderr)
        return 2
    files: list[Path] = []
    for arg in args:
        p = Path(arg)
        files += sorted(p.rglob("*.md")) if p.is_dir() else [p]
    cache: dict[Path, set[str]] = {}
    all_broken, checked, external = [], 0, 0
    for md in files:
        broken, c, e = check_file(md, cache)
        all_broken += broken
        checked += c
        external += e
    for line in all_broken:
        print(line)
    print(f"{len(files)} file(s), {checked} relative link(s) checked, "
          f"{len(all_broken)} broken, {external} external skipped")
    return 1 if all_broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
