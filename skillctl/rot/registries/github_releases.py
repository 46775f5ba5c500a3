"""GitHub releases: ``/repos/OWNER/REPO/releases`` (REST, paginated with ``Link`` headers).

Drafts are invisible to users and skipped; GitHub's own ``prerelease`` flag is honoured even
when the tag looks final. Only the first pages are read (newest first): enough to know the
latest release and recent history, and ``complete=False`` says an older pin may simply not
have been seen. A token (``SKILLCTL_GITHUB_TOKEN`` or ``GITHUB_TOKEN``) raises the anonymous
rate limit; it is only ever sent to the public API host, never to a configured mirror.
"""

from __future__ import annotations

import os
import re

from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, PinMalformed, Release, expect, parse_time
from skillctl.rot.registries.http import RegistryClient

DEFAULT_BASE_URL = "https://api.github.com"
NETWORK = True
MAX_PAGES = 3
_NEXT_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def resolve(pin: Pin, client: RegistryClient, base_url: str) -> PinInfo:
    parts = pin.package.strip("/").split("/")
    if len(parts) != 2 or not all(parts):
        raise PinMalformed(f"github-releases package must be OWNER/REPO, got {pin.package!r}")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    token = os.environ.get("SKILLCTL_GITHUB_TOKEN") or os.environ.get("GITHUB_TOKEN")
    if token and base_url.rstrip("/") == DEFAULT_BASE_URL:
        headers["Authorization"] = f"Bearer {token}"
    url: str | None = f"{base_url}/repos/{parts[0]}/{parts[1]}/releases?per_page=100"
    releases: list[Release] = []
    pages = 0
    while url and pages < MAX_PAGES:
        answer = client.request("GET", url, headers)
        items = answer.json()
        expect(isinstance(items, list), "GitHub releases answer is not a list")
        for item in items:
            expect(isinstance(item, dict) and isinstance(item.get("tag_name"), str),
                   "GitHub release without a tag_name")
            if item.get("draft"):
                continue
            releases.append(Release(item["tag_name"], parse_time(item.get("published_at") or item.get("created_at")),
                                    prerelease=bool(item.get("prerelease"))))
        pages += 1
        match = _NEXT_RE.search(answer.headers.get("link", ""))
        url = match.group(1) if match else None
    return PinInfo("github-releases", pin.package, releases, complete=url is None)
