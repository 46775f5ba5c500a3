"""A local OpenAI-compatible chat completions server for the drafting tests (127.0.0.1 only).

Each test queues what the server does for the next requests — a canned structured answer,
malformed JSON, a refusal, a stall past the client's timeout, a 429 with ``retry-after``, a
500 — and reads back the request bodies, so every case goes through the real ``openai`` client
and the test can prove what the model was (and was not) shown.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    def __init__(self) -> None:
        self.queue: list[tuple[str, Any]] = []
        self.default: tuple[str, Any] = ("status", 503)
        self.requests: list[Any] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def push(self, kind: str, value: Any = None) -> FakeOpenAI:
        self.queue.append((kind, value))
        return self

    def next(self) -> tuple[str, Any]:
        with self._lock:
            return self.queue.pop(0) if self.queue else self.default

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def completion(content: str | None, refusal: str | None = None, finish: str = "stop") -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1764600000, "model": "fake",
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            try:
                fake.requests.append(json.loads(body))
            except ValueError:
                fake.requests.append(body)
            kind, value = fake.next()
            if kind == "draft":
                self._json(200, completion(json.dumps(value)))
            elif kind == "content":
                self._json(200, completion(value))
            elif kind == "refusal":
                self._json(200, completion(None, refusal=value))
            elif kind == "stall":
                time.sleep(value)
                self._json(200, completion("{}"))
            elif kind == "429":
                self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                           headers={"retry-after": str(value)})
            else:
                self._json(int(value), {"error": {"message": "server error", "type": "server_error"}})

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

    return Handler
