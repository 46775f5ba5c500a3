"""A local stand-in for every registry skillctl audits, serving recorded documents from a folder.

    python benchmarks/fake_registry.py --port 8081 skills_repo/registry-snapshot
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
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _snapshot_module():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "skillctl" / "rot" / "registries" / "snapshot.py"
    spec = importlib.util.spec_from_file_location("skillctl_registry_snapshot", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


snapshot = _snapshot_module()
DATASOURCES = snapshot.DATASOURCES
locate = snapshot.locate


def env_lines(host: str, port: int) -> list[str]:
    base = f"http://{host}:{port}"
    return [f"export SKILLCTL_REGISTRY_{ds.upper().replace('-', '_')}={base}/{ds}" for ds in DATASOURCES]


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

    def _serve(self, head: bool) -> None:
        if self.latency:
            time.sleep(self.latency)
        status, headers, body = snapshot.answer(self.root, self.path, self.heads)
        return self._send(status, body, headers, head)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)


def serve(root: Path, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0.0) -> ThreadingHTTPServer:
    """Start serving *root* in a background thread; ``server.server_address`` has the port."""
    handler = type("BoundHandler", (Handler,), {
        "root": Path(root), "latency": latency_ms / 1000.0, "heads": snapshot.url_heads(Path(root)),
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
