"""A fake model server on 127.0.0.1 that records what real agents send and answers minimally.

End-to-end tests need to know what an agent *told the model* (which skills were listed in its
prompt), and recording a real session needs a model that plays along. This server speaks the
three wire formats the agents use — Anthropic Messages (Claude Code), OpenAI Responses (Codex
CLI) and OpenAI Chat Completions (Hermes Agent and most SDK-built agents), each streamed as SSE
or as one JSON body — records every request body, and answers "ok".

A script of canned replies makes it play tool-call turns: each entry is either
``{"text": "..."}`` or ``{"tool": NAME or [NAMES], "arguments": {...}}`` (or
``"arguments": {NAME: {...}, ...}`` keyed by tool name, since agents name arguments differently). An entry is consumed
only by a request that offers tools (an agent turn), so an agent's side requests (titles, quota
probes) do not eat the script; with a list of names the first one the request offers is used,
so one script drives Claude Code (``Bash``), Codex (``exec_command``/``shell``) and Hermes
(``terminal``). When the script is used up every turn gets a final text answer.

Library: ``with FakeModel(script=[...]) as fm: fm.url ... fm.requests``. Command line:
``python tests/agents/fakemodel.py --port 8090 --record requests.jsonl --script script.json``.
Only ever binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FINAL_TEXT = "ok"


@dataclass
class Recorded:
    """One request as the server received it (body parsed as JSON when it is JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "headers": self.headers, "body": self.body}


@dataclass
class Reply:
    """What one agent turn is answered with: text, or a call of one of ``tool_names``."""

    text: str | None = None
    tool_names: tuple[str, ...] = ()
    arguments: dict[str, Any] = field(default_factory=dict)
    per_tool: bool = False

    def arguments_for(self, name: str) -> dict[str, Any]:
        if not self.per_tool:
            return self.arguments
        found = self.arguments.get(name, {})
        return found if isinstance(found, dict) else {}

    @classmethod
    def parse(cls, entry: Any) -> Reply:
        if isinstance(entry, str):
            return cls(text=entry)
        if not isinstance(entry, dict):
            raise ValueError(f"script entry must be a string or an object, got {entry!r}")
        if "tool" in entry:
            names = entry["tool"]
            names = (names,) if isinstance(names, str) else tuple(names)
            args = entry.get("arguments", {})
            if not isinstance(args, dict):
                raise ValueError("tool arguments must be an object")
            per_tool = len(names) > 1 and bool(args) and all(k in names for k in args)
            return cls(tool_names=names, arguments=args, per_tool=per_tool)
        return cls(text=str(entry.get("text", FINAL_TEXT)))


def _offered_tools(body: Any) -> list[str]:
    """Tool names a request offers, across the three wire formats."""
    if not isinstance(body, dict):
        return []
    names = []
    for tool in body.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        name = tool.get("name") or (tool.get("function") or {}).get("name")
        if isinstance(name, str):
            names.append(name)
    return names


class FakeModel:
    """The server; a context manager that starts it on a free port and stops it on exit."""

    def __init__(self, script: list[Any] | None = None, record: Path | None = None, port: int = 0,
                 model: str = "fake-model") -> None:
        self.script = [Reply.parse(e) for e in (script or [])]
        self.record_path = record
        self.model = model
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeModel:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read -------------------------------------------------------------------

    def model_requests(self) -> list[Recorded]:
        """Requests that asked for a completion (any of the three APIs)."""
        return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0].rstrip("/").endswith(
            ("/messages", "/responses", "/chat/completions"))]

    # -- internals ---------------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)
            if self.record_path is not None:
                with self.record_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec.to_json()) + "\n")

    def reply_for(self, body: Any) -> Reply:
        offered = _offered_tools(body)
        with self._lock:
            if offered and self.script:
                reply = self.script.pop(0)
                if reply.tool_names:
                    chosen = next((n for n in reply.tool_names if n in offered), reply.tool_names[0])
                    return Reply(tool_names=(chosen,), arguments=reply.arguments_for(chosen))
                return reply
        return Reply(text=FINAL_TEXT)


def _handler_for(fm: FakeModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests
            pass

        def _read_body(self) -> tuple[bytes, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                raw = self._read_chunked()
            try:
                return raw, json.loads(raw) if raw else None
            except ValueError:
                return raw, raw.decode("utf-8", "replace")

        def _read_chunked(self) -> bytes:
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()

        def _handle(self) -> None:
            raw, body = self._read_body() if self.command in ("POST", "PUT") else (b"", None)
            fm.record(Recorded(self.command, self.path, dict(self.headers.items()), body, raw))
            path = self.path.split("?")[0].rstrip("/")
            if self.command == "POST" and path.endswith("/messages/count_tokens"):
                return self._json(200, {"input_tokens": 1})
            if self.command == "POST" and path.endswith("/messages"):
                return self._anthropic(body)
            if self.command == "POST" and path.endswith("/responses"):
                return self._responses(body)
            if self.command == "POST" and path.endswith("/chat/completions"):
                return self._chat(body)
            if self.command == "GET" and path == "/v1/models":
                return self._json(200, {"object": "list", "data": [
                    {"id": fm.model, "object": "model", "created": 0, "owned_by": "fake"}]})
            return self._json(404, {"error": {"message": f"not found: {self.path}", "type": "not_found"}})

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def do_HEAD(self) -> None:
            fm.record(Recorded("HEAD", self.path, dict(self.headers.items()), None))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _json(self, status: int, data: Any) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _sse(self, events: Iterator[tuple[str | None, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            for event, data in events:
                chunk = (f"event: {event}\n" if event else "") + "data: " + (
                    data if isinstance(data, str) else json.dumps(data)) + "\n\n"
                self.wfile.write(chunk.encode())
                self.wfile.flush()

        # -- Anthropic Messages ------------------------------------------------------------

        def _anthropic(self, body: Any) -> None:
            reply = fm.reply_for(body)
            msg_id = fm.next_id("msg")
            model = (body or {}).get("model", fm.model) if isinstance(body, dict) else fm.model
            usage = {"input_tokens": 1, "output_tokens": 1, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 0}
            if reply.tool_names:
                block: dict[str, Any] = {"type": "tool_use", "id": fm.next_id("toolu"),
                                         "name": reply.tool_names[0], "input": reply.arguments}
                stop = "tool_use"
            else:
                block = {"type": "text", "text": reply.text or FINAL_TEXT}
                stop = "end_turn"
            if not (isinstance(body, dict) and body.get("stream")):
                return self._json(200, {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                        "content": [block], "stop_reason": stop, "stop_sequence": None,
                                        "usage": usage})

            def events() -> Iterator[tuple[str | None, Any]]:
                yield "message_start", {"type": "message_start", "message": {
                    "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
                    "stop_reason": None, "stop_sequence": None, "usage": usage}}
                if block["type"] == "text":
                    yield "content_block_start", {"type": "content_block_start", "index": 0,
                                                  "content_block": {"type": "text", "text": ""}}
                    yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": "text_delta", "text": block["text"]}}
                else:
                    yield "content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
                        "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}
                    yield "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
                        "type": "input_json_delta", "partial_json": json.dumps(block["input"])}}
                yield "content_block_stop", {"type": "content_block_stop", "index": 0}
                yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": stop,
                                                                           "stop_sequence": None},
                                        "usage": {"output_tokens": 1}}
                yield "message_stop", {"type": "message_stop"}

            self._sse(events())

        # -- OpenAI Responses ----------------------------------------------------------------

        def _responses(self, body: Any) -> None:
            reply = fm.reply_for(body)
            resp_id = fm.next_id("resp")
            model = body.get("model", fm.model) if isinstance(body, dict) else fm.model
            if reply.tool_names:
                item: dict[str, Any] = {"type": "function_call", "id": fm.next_id("fc"),
                                        "call_id": fm.next_id("call"), "name": reply.tool_names[0],
                                        "arguments": json.dumps(reply.arguments), "status": "completed"}
            else:
                item = {"type": "message", "id": fm.next_id("msg"), "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": reply.text or FINAL_TEXT, "annotations": []}]}
            usage = {"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 1,
                     "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 2}
            base = {"id": resp_id, "object": "response", "created_at": int(time.time()), "model": model}
            done = {**base, "status": "completed", "output": [item], "usage": usage}
            if not (isinstance(body, dict) and body.get("stream")):
                return self._json(200, done)

            def events() -> Iterator[tuple[str | None, Any]]:
                seq = itertools.count()
                yield "response.created", {"type": "response.created", "sequence_number": next(seq),
                                           "response": {**base, "status": "in_progress", "output": []}}
                started = {**item, "status": "in_progress"}
                if item["type"] == "message":
                    started["content"] = []
                yield "response.output_item.added", {"type": "response.output_item.added",
                                                     "sequence_number": next(seq), "output_index": 0,
                                                     "item": started}
                if item["type"] == "message":
                    text = item["content"][0]["text"]
                    yield "response.output_text.delta", {"type": "response.output_text.delta",
                                                         "sequence_number": next(seq), "item_id": item["id"],
                                                         "output_index": 0, "content_index": 0, "delta": text}
                    yield "response.output_text.done", {"type": "response.output_text.done",
                                                        "sequence_number": next(seq), "item_id": item["id"],
                                                        "output_index": 0, "content_index": 0, "text": text}
                yield "response.output_item.done", {"type": "response.output_item.done",
                                                    "sequence_number": next(seq), "output_index": 0, "item": item}
                yield "response.completed", {"type": "response.completed", "sequence_number": next(seq),
                                             "response": done}

            self._sse(events())

        # -- OpenAI Chat Completions ---------------------------------------------------------

        def _chat(self, body: Any) -> None:
            reply = fm.reply_for(body)
            chat_id = fm.next_id("chatcmpl")
            model = body.get("model", fm.model) if isinstance(body, dict) else fm.model
            usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            if reply.tool_names:
                call = {"id": fm.next_id("call"), "type": "function",
                        "function": {"name": reply.tool_names[0], "arguments": json.dumps(reply.arguments)}}
                message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
                finish = "tool_calls"
            else:
                message = {"role": "assistant", "content": reply.text or FINAL_TEXT}
                finish = "stop"
            base = {"id": chat_id, "created": int(time.time()), "model": model}
            if not (isinstance(body, dict) and body.get("stream")):
                return self._json(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
                    {"index": 0, "message": message, "finish_reason": finish}]})

            def events() -> Iterator[tuple[str | None, Any]]:
                chunk = {**base, "object": "chat.completion.chunk"}
                if reply.tool_names:
                    delta: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [
                        {"index": 0, **message["tool_calls"][0]}]}
                else:
                    delta = {"role": "assistant", "content": message["content"]}
                yield None, {**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                yield None, {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
                             "usage": usage}
                yield None, "[DONE]"

            self._sse(events())

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", type=Path, help="append every request as one JSON line")
    parser.add_argument("--script", type=Path, help="JSON list of canned replies")
    args = parser.parse_args(argv)
    script = json.loads(args.script.read_text()) if args.script else []
    fm = FakeModel(script=script, record=args.record, port=args.port).start()
    print(fm.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fm.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
