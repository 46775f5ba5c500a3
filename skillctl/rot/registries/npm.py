"""npm: the registry's package document (``/NAME``; scoped names as ``/@scope%2Fname``).

``dist-tags.latest`` is what ``npm install`` picks, so nothing newer than it counts as the
latest; ``versions[v].deprecated`` is npm's per-version deprecation (deprecating a whole
package sets it on every version); ``time[v]`` is the publish time. A package whose versions
were all unpublished still answers 200 with ``time.unpublished``: that is ``missing``.
"""

from __future__ import annotations

from urllib.parse import quote

from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, PinMissing, Release, expect, parse_time
from skillctl.rot.registries.http import RegistryClient

DEFAULT_BASE_URL = "https://registry.npmjs.org"
NETWORK = True


def resolve(pin: Pin, client: RegistryClient, base_url: str) -> PinInfo:
    doc = client.get_json(f"{base_url}/{quote(pin.package, safe='@')}")
    expect(isinstance(doc, dict), "npm answer is not a JSON object")
    versions = doc.get("versions") or {}
    times = doc.get("time") or {}
    tags = doc.get("dist-tags") or {}
    expect(isinstance(versions, dict) and isinstance(times, dict) and isinstance(tags, dict),
           "npm document has malformed 'versions', 'time' or 'dist-tags'")
    if not versions and isinstance(times.get("unpublished"), dict):
        raise PinMissing(f"npm package {pin.package!r} was unpublished")
    releases = []
    for version, meta in versions.items():
        note = meta.get("deprecated") if isinstance(meta, dict) else None
        releases.append(Release(str(version), parse_time(times.get(version)),
                                deprecated=note if isinstance(note, str) and note else None))
    latest = tags.get("latest") if isinstance(tags.get("latest"), str) else None
    latest_release = next((r for r in releases if r.version == latest), None)
    deprecated = latest_release.deprecated if latest_release else None
    return PinInfo("npm", pin.package, releases, latest,
                   f"latest version is deprecated: {deprecated}" if deprecated else None)


