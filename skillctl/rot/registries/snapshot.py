"""Registry snapshots: recorded registry documents in a folder, answered without a network.

An audit against a snapshot is reproducible: an air-gapped CI job, a demo that must tell the
same story on any date, or a test. ``registry_snapshot: DIR`` in skillctl.yaml makes every
network resolver ask an httpx transport that reads DIR instead of a host; the resolvers and
their parsing are the same code that talks to the real registries. The folder layout below
is also what ``benchmarks/fake_registry.py`` serves over real HTTP, and that script loads this
file by path, so this module must stay standard library only::

    pypi/<normalized-name>.json             GET /pypi/pypi/<name>/json
    npm/<name, / as __>.json                GET /npm/<name>            (@scope%2Fname too)
    github-releases/<owner>__<repo>.json    GET /github-releases/repos/<owner>/<repo>/releases
    docker/<name, / as __>.json             GET /docker/v2/<name>/tags/list
    helm/index.yaml, helm/<repo>/index.yaml GET /helm[/<repo>]/index.yaml
    url/heads.json {path: {status, etag, last_modified}}   HEAD|GET /url/<path>
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DATASOURCES = ("pypi", "npm", "github-releases", "docker", "helm", "url")
#: The base URLs point here; ``.invalid`` can never resolve, so a snapshot never leaks to a network.
SNAPSHOT_HOST = "registry-snapshot.invalid"

_ROUTES: list[tuple[str, Any]] = [
    (r"/pypi/pypi/([^/]+)/json/?", lambda m: f"pypi/{re.sub(r'[-_.]+', '-', m[1]).lower()}.json"),
    (r"/npm/(@[^/]+/[^/]+|[^/@][^/]*)", lambda m: f"npm/{m[1].replace('/', '__')}.json"),
    (r"/github-releases/repos/([^/]+)/([^/]+)/releases", lambda m: f"github-releases/{m[1]}__{m[2]}.json"),
    (r"/docker/v2/(.+)/tags/list", lambda m: f"docker/{m[1].replace('/', '__')}.json"),
    (r"/helm((?:/[^/]+)?)/index\.yaml", lambda m: f"helm{m[1]}/index.yaml"),
]


def base_urls() -> dict[str, str]:
    """``registries:`` entries that send every datasource to the snapshot."""
    return {ds: f"http://{SNAPSHOT_HOST}/{ds}" for ds in DATASOURCES}


def locate(root: Path, path: str) -> Path | None:
    """The recorded document that answers a request *path* (None: 404). Never leaves *root*."""
    path = unquote(urlsplit(path).path)
    for pattern, target in _ROUTES:
        m = re.fullmatch(pattern, path)
        if m:
            candidate = (root / target(m)).resolve()
            if root.resolve() in candidate.parents and candidate.is_file():
                return candidate
            return None
    return None


def url_heads(root: Path) -> dict[str, Any]:
    """``url/heads.json``: the recorded status and validators of each checked URL path."""
    heads_file = Path(root) / "url" / "heads.json"
    try:
        data = json.loads(heads_file.read_text(encoding="utf-8")) if heads_file.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def answer(root: Path, path: str, heads: dict[str, Any] | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for a GET of *path*, exactly as the fake registry serves it."""
    root = Path(root)
    if path.startswith("/url/"):
        meta = (url_heads(root) if heads is None else heads).get(unquote(urlsplit(path).path)[len("/url"):])
        if not isinstance(meta, dict):
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        headers = {"Content-Type": str(meta.get("content_type", "application/octet-stream"))}
        for key, header in (("etag", "ETag"), ("last_modified", "Last-Modified")):
            if meta.get(key):
                headers[header] = str(meta[key])
        return int(meta.get("status", 200)), headers, b""
    doc = locate(root, path)
    if doc is None:
        return 404, {"Content-Type": "application/json"}, json.dumps({"message": "Not Found", "path": path}).encode()
    kind = "application/x-yaml" if doc.suffix == ".yaml" else "application/json"
    return 200, {"Content-Type": kind}, doc.read_bytes()


def transport(root: Path) -> Any:
    """An httpx transport answering from *root*: the registry client's only change for a snapshot."""
    import httpx

    root = Path(root)
    heads = url_heads(root)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host != SNAPSHOT_HOST:
            return httpx.Response(502, text=f"{request.url.host} is not in the registry snapshot")
        status, headers, body = answer(root, request.url.raw_path.decode("ascii", "replace"), heads)
        return httpx.Response(status, headers=headers, content=b"" if request.method == "HEAD" else body)

    return httpx.MockTransport(handle)
