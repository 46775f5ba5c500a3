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

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from skillctl.scan.keywords import lowered

PASTE_HOSTS = frozenset({
    "pastebin.com", "glot.io", "rentry.co", "rentry.org", "hastebin.com", "paste.ee", "ghostbin.com",
    "dpaste.org", "dpaste.com", "controlc.com", "justpaste.it", "privatebin.net", "termbin.com", "ix.io",
    "sprunge.us", "paste.rs", "pastes.io", "0bin.net", "pastie.org", "paste.mozilla.org", "bpa.st",
    "katb.in", "zerobin.net", "telegra.ph", "codeshare.io",
})
SHORTENERS = frozenset({
    "bit.ly", "tinyurl.com", "t.co", "goo.gl", "is.gd", "cutt.ly", "rebrand.ly", "ow.ly", "shorturl.at",
    "rb.gy", "tiny.cc", "buff.ly", "t.ly", "v.gd", "s.id", "bl.ink", "short.io", "lnkd.in", "shorturl.gg",
})
# Official installers of common developer tools, run in skills about anything: their own domains.
KNOWN_INSTALLERS = frozenset({
    "astral.sh", "sh.rustup.rs", "bun.sh", "deno.land", "get.docker.com", "ollama.com", "get.pnpm.io",
    "install.python-poetry.org", "pyenv.run", "get.helm.sh", "sdk.cloud.google.com", "cli.github.com",
    "fnm.vercel.app", "mise.run", "starship.rs", "tailscale.com", "get.k3s.io", "claude.ai", "opencode.ai",
    "deb.nodesource.com", "rpm.nodesource.com", "community.chocolatey.org",
})
# The same, served from a shared host under the project's own account.
KNOWN_INSTALLER_PATHS = ("raw.githubusercontent.com/homebrew/", "raw.githubusercontent.com/nvm-sh/",
                         "raw.githubusercontent.com/pyenv/", "raw.githubusercontent.com/ohmyzsh/")
# Download domains of the large platform vendors (their own CLIs and runtimes), matched as suffixes.
VENDOR_DOMAINS = (".amazonaws.com", ".googleapis.com", ".microsoft.com", ".nodejs.org", ".python.org",
                  ".hashicorp.com", ".docker.com", ".jetbrains.com", ".oracle.com", ".azureedge.net")
# Hosts that serve many owners' files: the owner (first path segments) is the identity.
_SHARED_HOSTS = frozenset({
    "github.com", "raw.githubusercontent.com", "objects.githubusercontent.com", "gist.github.com",
    "gist.githubusercontent.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sourceforge.net",
})
_GENERIC = frozenset({
    "www", "get", "cdn", "dl", "download", "downloads", "install", "installer", "sh", "raw", "static", "api",
    "releases", "release", "files", "assets", "tools", "tool", "app", "apps", "dev", "org", "io", "com", "net",
    "hub", "cli", "the", "and", "for", "with", "use", "using", "when", "skill", "skills", "from", "into",
    "your", "this", "that", "data", "script", "scripts", "setup", "helper", "agent", "agents", "main",
    "latest", "master", "head", "official", "example", "invalid", "test", "local", "home", "docs", "site",
})
_EXEC_ASSET = re.compile(
    r"\.(?:zip|exe|dmg|pkg|msi|ps1|sh|bat|cmd|scr|app|appimage|jar|7z|rar|tar\.gz|tgz|run|bin|command)(?:$|[?#])",
    re.IGNORECASE,
)
# What the campaign shipped: archives and programs a user double-clicks or runs, not scripts.
_BINARY_ASSET = re.compile(r"\.(?:zip|exe|dmg|pkg|msi|7z|rar|app|scr|bat|cmd|ps1|appimage|command)(?:$|[?#])",
                           re.IGNORECASE)
URL = re.compile(r"https?://[^\s<>\"'`)\]]+", re.IGNORECASE)
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
# The machine itself and private LANs. (ipaddress calls the documentation ranges "private" too,
# but an installer there stands for a public IP, the way examples are written.)
_LOCAL_NETS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
# ``irm bun.sh/install.ps1 | iex``: a host written without a scheme after the fetch command.
BARE_FETCH = re.compile(r"\b(?:curl|wget|irm|iwr|Invoke-RestMethod|Invoke-WebRequest)\s+(?:-\S+\s+)*['\"]?"
                        r"((?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s'\"|)]*)", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # a malformed URL (bad IPv6 brackets) is still text to judge, with no path
        return ""


def subject_words(name: str, description: str) -> frozenset[str]:
    """What the skill is about: the words of its name and description (without filler)."""
    words = _WORD.findall(f"{name} {description}".lower())
    return frozenset(w for w in words if len(w) >= 3 and w not in _GENERIC)


def host_identity(url: str) -> tuple[str, frozenset[str]]:
    """``(host, identity words)``: whose file this is (domain labels, or owner/repo on shared hosts)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "", frozenset()
    if host in _SHARED_HOSTS:
        segs = [s for s in parts.path.split("/") if s][:2]
        words = {w for s in segs for w in re.split(r"[-_.]", s.lower())}
    else:
        labels = host.split(".")
        words = {w for lab in labels[:-1] for w in re.split(r"[-_]", lab)}
    return host, frozenset(w for w in words if len(w) >= 3 and w not in _GENERIC)


def related(identity: frozenset[str], subject: frozenset[str]) -> bool:
    """Does the source belong to what the skill is about (``astral.sh`` for a uv skill by Astral)?"""
    for a in identity:
        for b in subject:
            if a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a))):
                return True
    return False


def source_kind(url: str, subject: frozenset[str]) -> str:
    """``paste``, ``shortener``, ``raw-ip``, ``release`` (of an unrelated repo), ``unrelated`` or ``related``."""
    host, identity = host_identity(url)
    if host in PASTE_HOSTS:
        return "paste"
    if host in SHORTENERS:
        return "shortener"
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        return "related" if ip.is_loopback or ip.is_link_local or any(ip in n for n in _LOCAL_NETS) else "raw-ip"
    if host in ("localhost", "") or host in KNOWN_INSTALLERS or host.endswith(VENDOR_DOMAINS):
        return "related"
    if (host + _path(url).lower()).startswith(KNOWN_INSTALLER_PATHS):
        return "related"
    if related(identity, subject):
        return "related"
    path = _path(url)
    if host in _SHARED_HOSTS and ("/releases/" in path or path.endswith("/releases")):
        return "release"
    return "unrelated"


_BAD = {"paste": "a paste site", "shortener": "a URL shortener", "raw-ip": "a raw IP address",
        "release": "a release of a repository unrelated to the skill", "unrelated": "a host unrelated to the skill"}


def installer_rating(line: str, subject: frozenset[str], severity: str) -> tuple[str, str | None]:
    """RCE-001 calibrated by source: the vendor's own https installer is low, a paste site or IP high."""
    urls = URL.findall(line) or ["https://" + h for h in BARE_FETCH.findall(line)]
    kinds = [source_kind(u, subject) for u in urls]
    if not kinds:
        return severity, None
    if any(k in ("paste", "shortener", "raw-ip") for k in kinds):
        bad = next(k for k in kinds if k in ("paste", "shortener", "raw-ip"))
        return "high", f"served from {_BAD[bad]}"
    if all(k == "related" for k in kinds) and all(u.lower().startswith("https://") for u in urls):
        return "low", "the vendor's own installer for what the skill is about"
    return severity, None


@dataclass(frozen=True)
class Step:
    line: int  # 1-based within the text
    severity: str
    message: str
    text: str


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


def fake_prerequisites(text: str, subject: frozenset[str]) -> list[Step]:
    """Download-and-run or paste-into-terminal steps whose source is not the skill's own."""
    if "://" not in text:  # every URL has one
        return []
    out: list[Step] = []
    heading = ""
    for start, para in _paragraphs(text):
        first = para.lstrip()
        if first.startswith("#"):
            heading = first.split("\n", 1)[0]
            para = para.split("\n", 1)[1] if "\n" in para else ""
            start += 1
        urls = URL.findall(para) if "://" in para else None
        if not urls:
            continue
        # Each test runs only when the decision needs it: most URLs are plain links, never run.
        required: bool | None = None
        paste: bool | None = None
        for url in dict.fromkeys(urls):
            at = para.find(url)  # the line of its first occurrence, without splitting a long block per URL
            line_no = start + para.count("\n", 0, at)
            end = para.find("\n", at)
            line = para[para.rfind("\n", 0, at) + 1: end if end != -1 else len(para)]
            piped = _FETCHERS.search(lowered(line)) is not None and PIPE_RUN.search(line) is not None
            asset = _EXEC_ASSET.search(_path(url)) is not None or "/releases/download/" in url
            if not (piped or (asset and RUN_WORDS.search(para) is not None)):
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
                required = bool(REQUIRED.search(heading) or REQUIRED.search(para))
            how = ("paste a command into a terminal" if paste and not piped
                   else "download and run" if not piped else "pipe a download into a shell")
            if kind in ("paste", "shortener", "raw-ip"):
                severity = "critical" if required or paste else "high"
            elif kind == "release" and (required or paste) and (
                    _BINARY_ASSET.search(_path(url)) or (RELEASE_PAGE.search(url) and BINARY_WORDS.search(para))):
                severity = "critical"
            elif kind == "unrelated" and not piped and required and _BINARY_ASSET.search(_path(url)):
                severity = "high"
            else:
                continue  # an installer piped from a named host is RCE-001's, rated by its source
            what = "a required step" if required else "a step"
            out.append(Step(line_no, severity,
                            f"fake prerequisite: {what} tells the user to {how} from {_BAD[kind]} ({url[:80]})",
                            line))
    return out
