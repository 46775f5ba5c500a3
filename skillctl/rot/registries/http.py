"""The HTTP client every resolver shares: timeouts, retries with backoff, capped bodies.

Registries fail in boring ways (a 502 from a CDN, a captive portal's HTML page, a response
that stalls, a redirect loop). Each must turn into one pin's ``unreachable`` or ``error``
finding within a bounded time, never an exception that kills the audit, and never a hang:
the deadline covers the whole attempt, so a server trickling one byte a second is cut off too,
and a host that stops answering altogether is given up on after a few requests.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from skillctl import __version__
from skillctl.rot.registries.base import PinMalformed, PinMissing, PinUnreachable

T = TypeVar("T")
MAX_BODY = 64 * 1024 * 1024
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
DEAD_AFTER = 3
"""After this many requests in a row to one host got no answer at all, stop asking it: one
dead registry must not hold the report hostage for (pins x timeout x attempts)."""
USER_AGENT = f"skillctl/{__version__} (+https://github.com/skillctl/skillctl)"


@dataclass
class Answer:
    """A finished response: status, headers (lower-case names), body bytes, final URL."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            kind = self.headers.get("content-type", "unknown content type").split(";")[0]
            snippet = self.body[:60].decode("utf-8", "replace").strip().replace("\n", " ")
            raise PinMalformed(f"answer from {self.url} is not JSON ({kind}: {snippet!r})") from None

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise PinMalformed(f"answer from {self.url} is not UTF-8 text") from None


class RegistryClient:
    """A thread-safe httpx client with retry policy, plus a per-run memo for shared documents."""

    def __init__(self, *, timeout: float = 10.0, retries: int = 2, backoff: float = 0.25,
                 max_redirects: int = 5, pool_size: int = 16, transport: Any = None) -> None:
        import httpx

        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._httpx = httpx
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=True, max_redirects=max_redirects,
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"User-Agent": USER_AGENT}, transport=transport,
        )
        self._memo: dict[str, Future[Any]] = {}
        self._memo_lock = threading.Lock()
        self._dead: dict[str, int] = {}  # host -> requests in a row that got no answer at all

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                *, accept: tuple[int, ...] = ()) -> Answer:
        """Send with retries; statuses in *accept* are returned as they are (see module doc)."""
        host = urlsplit(url).netloc
        if self._dead.get(host, 0) >= DEAD_AFTER:
            raise PinUnreachable(f"{host} stopped answering ({DEAD_AFTER} requests in a row failed); not asked")
        answer, why = self._with_retries(method, url, headers or {}, accept)
        with self._memo_lock:
            self._dead[host] = 0 if answer is not None else self._dead.get(host, 0) + 1
        if answer is None:
            raise PinUnreachable(f"{url}: {why} ({self.retries + 1} attempts)")
        return answer

    def _with_retries(self, method: str, url: str, headers: dict[str, str],
                      accept: tuple[int, ...]) -> tuple[Answer | None, str]:
        """(answer, "") or (None, why) when the host never answered: network error or timeout."""
        last = "no attempt made"
        hint: str | None = None
        answered = False
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, hint))
            try:
                answer = self._once(method, url, headers)
            except self._httpx.TooManyRedirects:
                raise PinUnreachable(f"{url}: too many redirects (redirect loop?)") from None
            except self._httpx.TimeoutException:
                last = f"timed out after {self.timeout:g}s"
                continue
            except self._httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            except self._httpx.InvalidURL as exc:
                raise PinMalformed(f"invalid registry URL {url!r}: {exc}") from None
            answered = True
            if answer.status in accept or 200 <= answer.status < 300:
                return answer, ""
            if answer.status in (404, 410):
                raise PinMissing(f"{url}: HTTP {answer.status} (not found)")
            if answer.status in RETRY_STATUS:
                last = f"HTTP {answer.status}"
                hint = answer.headers.get("retry-after")
                continue
            if answer.status in (401, 403, 407):
                raise PinUnreachable(f"{url}: HTTP {answer.status} (access denied; credentials needed?)")
            raise PinMalformed(f"{url}: unexpected HTTP {answer.status}")
        if answered:
            raise PinUnreachable(f"{url}: {last} ({self.retries + 1} attempts)")
        return None, last

    def _delay(self, attempt: int, hint: str | None) -> float:
        """Exponential backoff with jitter; a short Retry-After from a 429/503 is honoured."""
        delay = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
        if hint and hint.strip().isdigit():
            delay = max(delay, min(float(hint), 5.0))
        return min(delay, 5.0)

    def _once(self, method: str, url: str, headers: dict[str, str]) -> Answer:
        deadline = time.monotonic() + self.timeout * 2
        with self._client.stream(method, url, headers=headers) as resp:
            chunks: list[bytes] = []
            size = 0
            if method != "HEAD":
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise PinMalformed(f"{url}: answer larger than {MAX_BODY // 2**20} MiB")
                    if time.monotonic() > deadline:
                        raise self._httpx.ReadTimeout("body arrived too slowly")
                    chunks.append(chunk)
            return Answer(resp.status_code, {k.lower(): v for k, v in resp.headers.items()},
                          b"".join(chunks), str(resp.url))

    def get_json(self, url: str, headers: dict[str, str] | None = None) -> Any:
        return self.request("GET", url, {"Accept": "application/json", **(headers or {})}).json()

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute *key* once per run even when many threads ask at once (a Helm index, say)."""
        with self._memo_lock:
            future = self._memo.get(key)
            owner = future is None
            if owner:
                future = self._memo[key] = Future()
        assert future is not None
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()
