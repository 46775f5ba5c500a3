"""Whose file a URL serves: the source judgement behind fake prerequisites and piped installers.

A download that is run is only as trustworthy as whoever controls its host, so the question
asked of every such URL is what an attacker would have to own to serve it:

- nothing at all: a paste site, a URL shortener, a tunnel or dynamic-DNS name (``paste``,
  ``shortener``, ``tunnel``), or a raw IP address (``raw-ip``);
- an account anyone can open under any name: free static hosting, cloud buckets and CDN
  endpoints (``*.vercel.app``, ``*.s3.amazonaws.com``), a subdomain of someone's domain, a
  repository on a code host (its name is free even when it copies the skill's subject). These
  are never the skill's vendor (``unrelated``, or ``release`` for a release asset);
- a registrable domain, or a code-host account, whose name *is* the subject the skill names in
  its name or description (``brex.com`` or ``github.com/brex/...`` for a skill about Brex):
  ``related``, the vendor's own. The whole label must be one subject word, at most with a
  corporate suffix (``brexhq``, ``brex-labs``, ``brexai``: a registration of the same cost as
  ``brex.io``). A label that adds other words (``brex-cli-setup.com``, ``brexsetup.io``) is the
  look-alike shape, not the vendor; a subdomain label (``brex.attacker.example``) belongs to the
  domain's owner, and a repository's name (``github.com/anyone/brex``) to nobody in particular.

The skill's own text is attacker-controlled, so this is no proof of good faith: it only makes a
look-alike host cost a registration the real vendor usually already holds, and keeps every host
that costs nothing outside the vendor's allowance.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

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
# Names anyone gets in seconds that point at a machine they run: tunnels and dynamic DNS
# (matched as suffixes of the host).
TUNNELS = (
    "ngrok.io", "ngrok-free.app", "ngrok.app", "ngrok.dev", "ngrok-free.dev", "trycloudflare.com", "loca.lt",
    "localtunnel.me", "serveo.net", "localhost.run", "lhr.life", "pinggy.link", "bore.pub", "tunnelmole.net",
    "duckdns.org", "no-ip.org", "no-ip.com", "ddns.net", "hopto.org", "zapto.org", "sytes.net", "myftp.org",
    "dynu.net", "dyndns.org", "mooo.com", "afraid.org", "portmap.io", "serveousercontent.com",
)
# Free hosting, cloud storage and CDN endpoints: the first label is whatever the account holder
# chose, so it says nothing about the vendor (matched as suffixes of the host).
FREE_HOSTING = (
    "github.io", "gitlab.io", "codeberg.page", "netlify.app", "netlify.com", "vercel.app", "pages.dev",
    "workers.dev", "herokuapp.com", "glitch.me", "repl.co", "replit.app", "replit.dev", "surge.sh",
    "onrender.com", "fly.dev", "railway.app", "up.railway.app", "web.app", "firebaseapp.com", "deno.dev",
    "azurewebsites.net", "azureedge.net", "blob.core.windows.net", "cloudfront.net", "amazonaws.com",
    "googleapis.com", "appspot.com", "r2.dev", "digitaloceanspaces.com", "backblazeb2.com", "blogspot.com",
    "wixsite.com", "weebly.com", "000webhostapp.com", "neocities.org", "sourceforge.io", "on.aws",
)
# Official installers of common developer tools, run in skills about anything: their own hosts.
KNOWN_INSTALLERS = frozenset({
    "astral.sh", "sh.rustup.rs", "bun.sh", "deno.land", "get.docker.com", "ollama.com", "get.pnpm.io",
    "install.python-poetry.org", "pyenv.run", "get.helm.sh", "sdk.cloud.google.com", "cli.github.com",
    "fnm.vercel.app", "mise.run", "starship.rs", "tailscale.com", "get.k3s.io", "claude.ai", "opencode.ai",
    "deb.nodesource.com", "rpm.nodesource.com", "community.chocolatey.org", "awscli.amazonaws.com",
    "aka.ms",  # Microsoft's own link service: only Microsoft mints aka.ms links
    "foundry.paradigm.xyz", "rclone.org", "get.volta.sh", "install.determinate.systems",
})
# Accounts of large platform vendors on shared code hosts: nobody else can publish under them,
# so a release there is the vendor's own whatever the skill is called.
VENDOR_ACCOUNTS = frozenset({
    "microsoft", "azure", "aws", "awslabs", "aws-samples", "google", "googlecloudplatform", "google-gemini",
    "hashicorp", "docker", "kubernetes", "kubernetes-sigs", "github", "cli", "oracle", "ibm", "redhat",
    "nvidia", "apple", "meta-llama", "facebook", "openai", "anthropics", "cloudflare", "vercel", "mozilla",
    "jetbrains", "dotnet", "powershell", "golang", "rust-lang", "nodejs", "python", "astral-sh", "openclaw",
})
# The same, served from a shared host under the project's own account.
KNOWN_INSTALLER_PATHS = ("raw.githubusercontent.com/homebrew/", "raw.githubusercontent.com/nvm-sh/",
                         "raw.githubusercontent.com/pyenv/", "raw.githubusercontent.com/ohmyzsh/",
                         "raw.githubusercontent.com/babashka/")
# Download domains of large platform vendors that host nobody else's files (matched as suffixes).
VENDOR_DOMAINS = (".microsoft.com", ".nodejs.org", ".python.org", ".hashicorp.com", ".docker.com",
                  ".jetbrains.com", ".oracle.com", ".openclaw.ai")
# Hosts that serve many owners' files: the owner (first path segment) is the identity.
SHARED_HOSTS = frozenset({
    "github.com", "raw.githubusercontent.com", "objects.githubusercontent.com", "gist.github.com",
    "gist.githubusercontent.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sourceforge.net",
})
# Second-level public suffixes under country codes: ``vendor.co.uk`` is registered as a whole.
_TWO_PART_SUFFIXES = frozenset({
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "com.au", "net.au", "org.au", "edu.au",
    "co.nz", "org.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "co.kr", "or.kr", "com.br", "net.br", "org.br",
    "com.cn", "net.cn", "org.cn", "com.tw", "org.tw", "com.hk", "com.sg", "co.in", "net.in", "org.in",
    "co.za", "com.mx", "com.tr", "co.il", "com.ar", "com.ua", "com.pl", "co.id", "com.my", "com.vn",
})
GENERIC = frozenset({
    "www", "get", "cdn", "dl", "download", "downloads", "install", "installer", "sh", "raw", "static", "api",
    "releases", "release", "files", "assets", "tools", "tool", "app", "apps", "dev", "org", "io", "com", "net",
    "hub", "cli", "the", "and", "for", "with", "use", "using", "when", "skill", "skills", "from", "into",
    "your", "this", "that", "data", "script", "scripts", "setup", "helper", "agent", "agents", "main",
    "latest", "master", "head", "official", "example", "invalid", "test", "local", "home", "docs", "site",
})
_WORD = re.compile(r"[a-z0-9]+")
# How organisations name their accounts and domains after themselves.
_CORPORATE = re.compile(r"^(?P<name>[a-z0-9]+?)-?(?:ai|hq|labs?|inc|io|dev|oss|app|team|org|corp|js|py)$")
# The machine itself and private LANs. (ipaddress calls the documentation ranges "private" too,
# but an installer there stands for a public IP, the way examples are written.)
_LOCAL_NETS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))

BAD = {"paste": "a paste site", "shortener": "a URL shortener", "raw-ip": "a raw IP address",
       "tunnel": "a tunnel or dynamic-DNS name", "release": "a release of a repository unrelated to the skill",
       "unrelated": "a host unrelated to the skill"}
# Sources whose owner had to register nothing: what runs from them rates above any named host.
FREE = ("paste", "shortener", "raw-ip", "tunnel")


def joined_name(name: str) -> str:
    """*name* without case or separators: "Private-Connect" and "private_connect" are "privateconnect"."""
    return "".join(_WORD.findall(name.lower()))


def subject_words(name: str, description: str) -> frozenset[str]:
    """What the skill is about: the words of its name and description (without filler)."""
    words = _WORD.findall(f"{name} {description}".lower())
    # the name without its separators too: "private-connect" is served from privateconnect.co
    return frozenset(w for w in (*words, joined_name(name)) if len(w) >= 3 and w not in GENERIC)


def url_path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # a malformed URL (bad IPv6 brackets) is still text to judge, with no path
        return ""


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _under(host: str, suffixes: tuple[str, ...]) -> bool:
    return any(host == s or host.endswith("." + s) for s in suffixes)


def registrable_label(host: str) -> str:
    """The name a vendor registers: ``brex`` for ``cli.brex.com`` or ``www.brex.co.uk``."""
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_PART_SUFFIXES:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else ""


def names_subject(label: str, subject: frozenset[str]) -> bool:
    """Is a registered name (domain label, code-host account) the skill's subject itself?"""
    if label in subject or label.replace("-", "") in subject:
        return True  # "molt-arena.com" for a skill named moltarena
    m = _CORPORATE.match(label)
    return m is not None and m.group("name") in subject


# Domains only accredited universities and research institutes get (``.edu``, ``.ac.uk``,
# ``.edu.cn``): where research software is distributed from, and nobody registers one in seconds.
_INSTITUTION = re.compile(r"\.(?:edu|ac\.[a-z]{2}|edu\.[a-z]{2})$")


def institution_host(host: str) -> bool:
    return _INSTITUTION.search(host) is not None


def _owner(url: str) -> str:
    segs = [s for s in url_path(url).split("/") if s]
    return segs[0].lower() if segs else ""


def source_kind(url: str, subject: frozenset[str]) -> str:
    """``paste``, ``shortener``, ``tunnel``, ``raw-ip``, ``release``, ``unrelated`` or ``related`` (module doc)."""
    host = _host(url)
    if host in PASTE_HOSTS:
        return "paste"
    if host in SHORTENERS:
        return "shortener"
    if _under(host, TUNNELS):
        return "tunnel"
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        return "related" if ip.is_loopback or ip.is_link_local or any(ip in n for n in _LOCAL_NETS) else "raw-ip"
    if host in ("localhost", "") or host in KNOWN_INSTALLERS or host.endswith(VENDOR_DOMAINS) \
            or institution_host(host):
        return "related"
    if (host + url_path(url).lower()).startswith(KNOWN_INSTALLER_PATHS):
        return "related"
    if host in SHARED_HOSTS:
        if names_subject(_owner(url), subject) or _owner(url) in VENDOR_ACCOUNTS:
            return "related"
        path = url_path(url)
        return "release" if "/releases/" in path or path.endswith("/releases") else "unrelated"
    if _under(host, FREE_HOSTING):
        return "unrelated"
    return "related" if names_subject(registrable_label(host), subject) else "unrelated"


def package_source_related(url: str, subject: frozenset[str]) -> bool:
    """A package built from its own repository (``pip install git+https://github.com/org/sam``).

    Looser than ``source_kind``: the repository's name counts, and a word of it may extend a
    subject word (``unslothai`` for unsloth), because installing a project from its source
    repository is how research code is distributed, and the package's name is the URL's.
    """
    if _host(url) not in SHARED_HOSTS:
        return False  # elsewhere the host is the identity, judged by ``source_kind``
    segs = [s for s in url_path(url).split("/") if s][:2]
    words = {w for s in segs for w in re.split(r"[-_.]", s.lower())}
    identity = {w for w in words if len(w) >= 3 and w not in GENERIC}
    return any(a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))
               for a in identity for b in subject)
