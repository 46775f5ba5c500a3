"""Fake prerequisites: a required download-and-run or paste-into-terminal step from a bad source.

The Feb 2026 ClawHavoc skills needed no trigger word: a "Prerequisites" section told the user
to download a zip from a GitHub release and run it (Windows), or to paste a command from a
paste-site snippet into Terminal (macOS). What gives them away is the *source* of what is run,
judged against what the skill is about: a paste site, a URL shortener or a raw IP is never a
vendor's installer, and a release of a repository that has nothing to do with the skill's
subject is not its dependency. The same judgement calibrates RCE-001: ``curl
https://vendor/install.sh | sh`` in a skill about that vendor rates below the same line from a
paste site or an IP address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from skillctl.scan.hosts import (
    BAD,
    FREE,
    KNOWN_INSTALLERS,
    package_source_related,
    source_kind,
    subject_words,
    url_path,
)
from skillctl.scan.keywords import lowered

__all__ = ["Step", "fake_prerequisites", "installer_rating", "subject_words"]

_EXEC_ASSET = re.compile(
    r"\.(?:zip|exe|dmg|pkg|msi|ps1|sh|bat|cmd|scr|app|appimage|jar|7z|rar|tar\.gz|tgz|run|bin|command)(?:$|[?#])",
    re.IGNORECASE,
)
# What the campaign shipped: archives and programs a user double-clicks or runs, not scripts.
_BINARY_ASSET = re.compile(r"\.(?:zip|exe|dmg|pkg|msi|7z|rar|app|scr|bat|cmd|ps1|appimage|command)(?:$|[?#])",
                           re.IGNORECASE)
URL = re.compile(r"https?://[^\s<>\"'`)\]]+", re.IGNORECASE)


def urls_in(text: str) -> list[str]:
    """The URLs of *text*, without the sentence punctuation that follows one in prose."""
    return [u.rstrip(".,;:!?") for u in URL.findall(text)]
# A step that runs what it fetched: piped into an interpreter, or fetched then run.
PIPE_RUN = re.compile(
    r"\b(?:curl|wget|iwr|irm|Invoke-WebRequest|Invoke-RestMethod)\b[^\n]*(?:\|\s*(?:sudo\s+)?(?:ba|z)?sh\b|"
    r"\|\s*(?:iex|Invoke-Expression|python[23]?|node|perl|ruby)\b|&&\s*(?:chmod|\./|/tmp/|(?:ba)?sh\s))"
    r"|\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b|\$\(\s*(?:curl|wget)\b|\b(?:iex|Invoke-Expression)\b[^\n]*\b(?:iwr|irm)\b",
    re.IGNORECASE,
)
# Words (lower case) every PIPE_RUN and every PASTE_TERMINAL match contains: a cheap test first.
_FETCHERS = re.compile(r"curl|wget|iwr|irm|invoke-webrequest|invoke-restmethod")
_TERMINALS = re.compile(r"terminal|powershell|command prompt|cmd\.exe|shell|console")
RUN_WORDS = re.compile(
    r"\b(?:run|execute|open|launch|start|extract|unzip|install|double[- ]click|chmod\s+\+x|xattr|as administrator)\b",
    re.IGNORECASE,
)
PASTE_TERMINAL = re.compile(
    r"\b(?:paste|copy|type|enter)\b[^\n.]{0,60}\b(?:terminal|powershell|command prompt|cmd\.exe|shell|console)\b"
    r"|\bopen (?:the )?(?:terminal|powershell|command prompt)\b[^\n.]{0,40}\b(?:paste|run|type|enter)\b",
    re.IGNORECASE,
)
REQUIRED = re.compile(
    r"\b(?:prerequisites?|requirements?|required|requires?|setup|set up|installation|install(?:ing)? first|"
    r"before (?:using|you (?:start|begin|use))|first,? (?:run|install|download)|must (?:run|install|download)|"
    r"needs? (?:the|a|this)|(?:won't|will not|does not|doesn't) work without|one[- ]time|companion app)\b",
    re.IGNORECASE,
)
RELEASE_PAGE = re.compile(r"/releases(?:/latest|/tag/[^/\s]+)?/?$")
BINARY_WORDS = re.compile(r"\.(?:exe|zip|dmg|pkg|msi|app)\b", re.IGNORECASE)
# ``irm bun.sh/install.ps1 | iex``: a host written without a scheme after the fetch command.
BARE_FETCH = re.compile(r"\b(?:curl|wget|irm|iwr|Invoke-RestMethod|Invoke-WebRequest)\s+(?:-\S+\s+)*['\"]?"
                        r"((?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s'\"|)]*)", re.IGNORECASE)


# "curl|bash" as a term (a table cell, a category, a shell case pattern): the fetcher is followed
# directly by the pipe, with no URL, host, variable or option to fetch from.
# (in a markdown table the pipe is escaped: ``curl \| sh``; ``curl -sSL .../install.sh`` elides its source)
NAMED_ONLY = re.compile(r"\b(?:curl|wget|fetch|aria2c)\s*\\?\||\b(?:curl|wget)\s+(?:-\w+\s+)*(?:\.\.\.|\u2026)/",
                        re.IGNORECASE)
SOURCED = re.compile(r"\b(?:curl|wget|fetch|aria2c)\s+(?!(?:-\w+\s+)*(?:\.\.\.|\u2026)/)[^\s|\\]", re.IGNORECASE)


def installer_rating(line: str, subject: frozenset[str], severity: str, *,
                     package: bool = False) -> tuple[str, str | None]:
    """RCE-001 (and RCE-006, *package*) calibrated by source: the vendor's own https installer is
    low, one from a host that cost its owner nothing (paste site, tunnel, IP) high (``hosts.py``)."""
    # a host written without a scheme is fetched over plain http (curl's and PowerShell's default),
    # which only the well-known installers' own hosts are forgiven (their documented one-liners)
    urls = urls_in(line) or [("https://" if h.split("/")[0].lower() in KNOWN_INSTALLERS else "http://") + h
                             for h in BARE_FETCH.findall(line)]
    if not urls and not package and NAMED_ONLY.search(line) and not SOURCED.search(line):
        return "low", "names the technique (no source to fetch from)"
    kinds = [source_kind(u, subject) for u in urls]
    if package:
        kinds = ["related" if k in ("unrelated", "release") and package_source_related(u, subject) else k
                 for u, k in zip(urls, kinds, strict=True)]
    if not kinds:
        return severity, None
    if any(k in FREE for k in kinds):
        bad = next(k for k in kinds if k in FREE)
        return "high", f"served from {BAD[bad]}"
    if all(k == "related" for k in kinds) and all(u.lower().startswith("https://") for u in urls):
        return "low", "the vendor's own installer for what the skill is about"
    return severity, None


@dataclass(frozen=True)
class Step:
    line: int  # 1-based within the text
    severity: str
    message: str
    text: str
    url: str = ""


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """``(first line, text)`` of blank-line separated blocks; a fenced block joins the prose before it."""
    start, buf = 1, list[str]()
    in_fence = False
    for i, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        if not stripped and not in_fence:
            if buf:
                yield start, "\n".join(buf)
            start, buf = i + 1, []
            continue
        if not buf:
            start = i
        buf.append(line)
    if buf:
        yield start, "\n".join(buf)


def _pastes(para: str) -> bool:
    """Does the paragraph tell someone to paste or type a command into a terminal?"""
    return _TERMINALS.search(lowered(para)) is not None and PASTE_TERMINAL.search(para) is not None


_SOURCE_ARCHIVE = re.compile(r"^https?://(?:www\.)?(?:github\.com|gitlab\.com|codeberg\.org)/[^/\s]+/[^/\s]+/"
                             r"(?:-/)?archive/", re.IGNORECASE)
# How far a step reaches: the download is one numbered line, "extract with password" and "run it"
# the next ones, often each its own paragraph; the step ends at the next heading.
STEP_REACH = 1500
_RUN_LATER = re.compile(r"\b(?:before (?:using|starting|you)|without (?:this|it)|(?:will not|won't|cannot|can't) "
                        r"(?:work|function)|must|required?)\b", re.IGNORECASE)


def _step_text(paras: list[tuple[int, str]], index: int) -> str:
    """The paragraph at *index* and the ones after it up to the next heading (at most STEP_REACH)."""
    parts: list[str] = []
    size = 0
    for _start, para in paras[index:]:
        if parts and para.lstrip().startswith("#"):
            break
        parts.append(para)
        size += len(para)
        if size >= STEP_REACH:
            break
    return "\n".join(parts)[:STEP_REACH]


def fake_prerequisites(text: str, subject: frozenset[str]) -> list[Step]:
    """Download-and-run or paste-into-terminal steps whose source is not the skill's own."""
    if "://" not in text:  # every URL has one
        return []
    out: list[Step] = []
    heading = ""
    paras = list(_paragraphs(text))
    for index, (start, para) in enumerate(paras):
        first = para.lstrip()
        if first.startswith("#"):
            heading = first.split("\n", 1)[0]
            para = para.split("\n", 1)[1] if "\n" in para else ""
            start += 1
        urls = urls_in(para) if "://" in para else None
        if not urls:
            continue
        # Each test runs only when the decision needs it: most URLs are plain links, never run.
        required: bool | None = None
        paste: bool | None = None
        step: str | None = None  # the paragraph and those after it to the next heading (_step_text)
        for url in dict.fromkeys(urls):
            at = para.find(url)  # the line of its first occurrence, without splitting a long block per URL
            line_no = start + para.count("\n", 0, at)
            end = para.find("\n", at)
            line = para[para.rfind("\n", 0, at) + 1: end if end != -1 else len(para)]
            piped = _FETCHERS.search(lowered(line)) is not None and PIPE_RUN.search(line) is not None
            if _SOURCE_ARCHIVE.search(url) is not None:
                continue  # a code host's snapshot of a repository's source: files to read, not a program
            asset = _EXEC_ASSET.search(url_path(url)) is not None or "/releases/download/" in url
            if asset and not piped and step is None:
                step = _step_text(paras, index)
            if not (piped or (asset and RUN_WORDS.search(step or "") is not None)):
                if paste is None:
                    paste = _pastes(para)
                if not paste:
                    continue
            kind = source_kind(url, subject)
            if kind == "related":
                continue
            if paste is None:
                paste = _pastes(para)
            if required is None:
                if step is None:
                    step = _step_text(paras, index)
                # the campaign's shape: "1. DOWNLOAD ..." then "3. RUN it BEFORE starting the skill"
                required = bool(REQUIRED.search(heading) or REQUIRED.search(para) or _RUN_LATER.search(step))
            how = ("paste a command into a terminal" if paste and not piped
                   else "download and run" if not piped else "pipe a download into a shell")
            if kind in FREE:
                severity = "critical" if required or paste else "high"
            elif kind == "release" and (required or paste) and (
                    _BINARY_ASSET.search(url_path(url)) or (RELEASE_PAGE.search(url) and BINARY_WORDS.search(para))):
                severity = "critical"
            elif kind == "unrelated" and not piped and required and _BINARY_ASSET.search(url_path(url)):
                severity = "high"
            else:
                continue  # an installer piped from a named host is RCE-001's, rated by its source
            what = "a required step" if required else "a step"
            out.append(Step(line_no, severity,
                            f"fake prerequisite: {what} tells the user to {how} from {BAD[kind]} ({url[:80]})",
                            line, url))
    return out
