"""A local stand-in for every registry skillctl audits, serving recorded documents from a folder.

    python benchmarks/fake_registry.py --port 8081 tests/fixtures/registry
    eval "$(python benchmarks/fake_registry.py --port 8081 --print-env)"

Each datasource lives under its own path prefix, so one server covers them all and each
``SKILLCTL_REGISTRY_<DATASOURCE>`` points at ``http://127.0.0.1:PORT/<datasource>``; below the
prefix the paths are the real registries' own. Files in DIR:

    pypi/<normalized-name>.json             GET /pypi/pypi/<name>/json
    npm/<name, / as __>.json                GET /npm/<name>            (@scope%2Fname too)
    github-releases/<owner>__<repo>.json    GET /github-releases/repos/<owner>/<repo>/releases
    docker/<name, / as __>.json             GET /docker/v2/<name>/tags/list
    helm/index.yaml, helm/<repo>/index.yaml GET /helm[/<repo>]/index.yaml
    url/heads.json {path: {status, etag, last_modified}}   HEAD|GET /url/<path>

Standard library only: it must start anywhere, including CI without the package installed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DATASOURCES = ("pypi", "npm", "github-releases", "docker", "helm", "url")


def env_lines(host: str, port: int) -> list[str]:
    base = f"http://{host}:{port}"
    return [f"export SKILLCTL_REGISTRY_{ds.upper().replace('-', '_')}={base}/{ds}" for ds in DATASOURCES]


def locate(root: Path, path: str) -> Path | None:
    """Map a request path to the document that answers it (None: 404)."""
    path = unquote(urlsplit(path).path)
    routes = [
        (r"/pypi/pypi/([^/]+)/json/?", lambda m: f"pypi/{re.sub(r'[-_.]+', '-', m[1]).lower()}.json"),
        (r"/npm/(@[^/]+/[^/]+|[^/@][^/]*)", lambda m: f"npm/{m[1].replace('/', '__')}.json"),
        (r"/github-releases/repos/([^/]+)/([^/]+)/releases", lambda m: f"github-releases/{m[1]}__{m[2]}.json"),
        (r"/docker/v2/(.+)/tags/list", lambda m: f"docker/{m[1].replace('/', '__')}.json"),
        (r"/helm((?:/[^/]+)?)/index\.yaml", lambda m: f"helm{m[1]}/index.yaml"),
    ]
    for pattern, target in routes:
        m = re.fullmatch(pattern, path)
        if m:
            candidate = (root / target(m)).resolve()
            if root.resolve() in candidate.parents and candidate.is_file():
                return candidate
            return None
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms stalls
    root: Path = Path(".")
    latency: float = 0.0
    heads: dict = {}
    server_version = "fake-registry/1"

    def log_message(self, *args: object) -> None:  # quiet: benchmarks send thousands of requests
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _url(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)[len("/url"):]
        meta = self.heads.get(path)
        if meta is None:
            return self._send(404, b"not found\n", {"Content-Type": "text/plain"}, head)
        headers = {"Content-Type": meta.get("content_type", "application/octet-stream")}
        if meta.get("etag"):
            headers["ETag"] = meta["etag"]
        if meta.get("last_modified"):
            headers["Last-Modified"] = meta["last_modified"]
        return self._send(int(meta.get("status", 200)), b"", headers, head)

    def _serve(self, head: bool) -> None:
        if self.latency:
            time.sleep(self.latency)
        if self.path.startswith("/url/"):
            return self._url(head)
        doc = locate(self.root, self.path)
        if doc is None:
            body = json.dumps({"message": "Not Found", "path": self.path}).encode()
            return self._send(404, body, {"Content-Type": "application/json"}, head)
        kind = "application/x-yaml" if doc.suffix == ".yaml" else "application/json"
        return self._send(200, doc.read_bytes(), {"Content-Type": kind}, head)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)


def serve(root: Path, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0.0) -> ThreadingHTTPServer:
    """Start serving *root* in a background thread; ``server.server_address`` has the port."""
    heads_file = Path(root) / "url" / "heads.json"
    handler = type("BoundHandler", (Handler,), {
        "root": Path(root), "latency": latency_ms / 1000.0,
        "heads": json.loads(heads_file.read_text()) if heads_file.is_file() else {},
    })
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, name="fake-registry", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, help="folder of recorded documents")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer (simulated RTT)")
    parser.add_argument("--print-env", action="store_true", help="print export lines for a shell and exit")
    args = parser.parse_args(argv)
    if args.print_env:
        print("\n".join(env_lines(args.host, args.port)))
        return 0
    if args.directory is None or not args.directory.is_dir():
        parser.error("DIRECTORY must be a folder of recorded registry documents")
    server = serve(args.directory, args.host, args.port, args.latency_ms)
    host, port = server.server_address[:2]
    print(f"fake registry serving {args.directory} on http://{host}:{port}", flush=True)
    print("\n".join(env_lines(host, port)), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
