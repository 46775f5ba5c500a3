"""URLs: an HTTP ``HEAD`` (falling back to ``GET`` where HEAD is refused): status, ETag,
Last-Modified.

A URL pin's ``version`` says what "unchanged" means: ``*`` (it must just exist), ``etag:VALUE``
(or a bare ETag) or a date (``2025-01-31`` / ``last-modified:DATE``: changed once the server
reports a newer Last-Modified). The configured base URL replaces the pin's scheme and host
only, so a mirror or test server serves the same paths.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, PinMalformed, Release, parse_time
from skillctl.rot.registries.http import RegistryClient

DEFAULT_BASE_URL = None
NETWORK = True


def _split(package: str) -> tuple[str, str]:
    parts = urlsplit(package.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PinMalformed(f"url pin must be an http(s) URL, got {package!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{parts.netloc}", path


def default_base_url(package: str) -> str | None:
    try:
        return _split(package)[0]
    except PinMalformed:
        return None


def resolve(pin: Pin, client: RegistryClient, base_url: str) -> PinInfo:
    _, path = _split(pin.package)
    answer = client.request("HEAD", base_url + path, accept=(405, 501))
    if answer.status in (405, 501):
        answer = client.request("GET", base_url + path)
    etag = answer.headers.get("etag")
    modified_text = answer.headers.get("last-modified")
    try:
        modified = parse_time(parsedate_to_datetime(modified_text)) if modified_text else None
    except (TypeError, ValueError):
        modified = None
    meta = {"status": str(answer.status), "final_url": answer.url}
    if etag:
        meta["etag"] = etag
    if modified_text:
        meta["last_modified"] = modified_text
    return PinInfo("url", pin.package, [Release(etag or modified_text or "", modified)], etag, meta=meta)
