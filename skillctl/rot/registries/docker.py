"""Docker / OCI registries: the v2 tags list (``/v2/NAME/tags/list``).

``python`` means Docker Hub's ``library/python``; ``ghcr.io/owner/image`` names its own host.
Registries that want a token answer 401 with ``WWW-Authenticate: Bearer realm=...``; an
anonymous pull token is fetched from that realm once and the request repeated (this is how
Docker Hub and GHCR serve public images). Tag lists carry no dates, so Docker pins are never
judged ``abandoned``; a pinned tag is compared only with tags of the same variant.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin

from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, PinMalformed, PinUnreachable, Release, expect
from skillctl.rot.registries.http import RegistryClient

DEFAULT_BASE_URL = "https://registry-1.docker.io"
NETWORK = True
MAX_PAGES = 10
_NEXT_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')


def split_name(package: str) -> tuple[str | None, str]:
    """``ghcr.io/o/i`` -> (``ghcr.io``, ``o/i``); ``python`` -> (None, ``library/python``)."""
    parts = package.strip("/").split("/")
    host = None
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        host, parts = parts[0], parts[1:]
    if host in (None, "docker.io", "index.docker.io") and len(parts) == 1:
        parts = ["library", *parts]
    if host in ("docker.io", "index.docker.io"):
        host = None
    return host, "/".join(parts)


def default_base_url(package: str) -> str:
    host, _ = split_name(package)
    return f"https://{host}" if host else DEFAULT_BASE_URL


def resolve(pin: Pin, client: RegistryClient, base_url: str) -> PinInfo:
    _, name = split_name(pin.package)
    if not name or not re.fullmatch(r"[a-z0-9]+(?:[._/-][a-z0-9]+)*", name):
        raise PinMalformed(f"not a valid image name: {pin.package!r}")
    url: str | None = f"{base_url}/v2/{name}/tags/list?n=1000"
    headers: dict[str, str] = {"Accept": "application/json"}
    tags: list[str] = []
    pages = 0
    while url and pages < MAX_PAGES:
        answer = client.request("GET", url, headers, accept=(401,))
        if answer.status == 401:
            if "Authorization" in headers:
                raise PinUnreachable(f"{url}: HTTP 401 even with an anonymous token (private image?)")
            headers["Authorization"] = "Bearer " + _token(client, answer.headers.get("www-authenticate", ""), name)
            continue
        doc = answer.json()
        expect(isinstance(doc, dict) and isinstance(doc.get("tags") or [], list), "tags list has no 'tags' array")
        tags += [str(t) for t in doc.get("tags") or []]
        pages += 1
        match = _NEXT_RE.search(answer.headers.get("link", ""))
        url = urljoin(url, match.group(1)) if match else None
    return PinInfo("docker", pin.package, [Release(t) for t in tags], complete=url is None)


def _token(client: RegistryClient, challenge: str, name: str) -> str:
    if not challenge.lower().startswith("bearer "):
        raise PinUnreachable("registry wants credentials skillctl does not have (no Bearer challenge)")
    params = dict(_PARAM_RE.findall(challenge))
    realm = params.pop("realm", None)
    if not realm:
        raise PinMalformed("Bearer challenge without a realm")
    params.setdefault("scope", f"repository:{name}:pull")
    doc = client.get_json(f"{realm}?{urlencode(params)}")
    token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
    if not isinstance(token, str) or not token:
        raise PinMalformed("token endpoint returned no token")
    return token
