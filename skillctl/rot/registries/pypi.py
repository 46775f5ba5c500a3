"""PyPI: the project JSON API (``/pypi/NAME/json``).

A release's upload time is its first file's upload; a release is yanked when every file is
(PEP 592 yanks files, pip refuses a version whose files are all yanked). PyPI has no
per-release deprecation, but a project can be marked ``archived``/``deprecated`` (PEP 792
project status) or declare ``Development Status :: 7 - Inactive``: both mean "do not build on
this any more", so they are reported as deprecated.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, Release, expect, parse_time
from skillctl.rot.registries.http import RegistryClient

DEFAULT_BASE_URL = "https://pypi.org"
NETWORK = True
_INACTIVE = "Development Status :: 7 - Inactive"


def normalize(name: str) -> str:
    """PEP 503 name normalisation: ``Foo_Bar`` and ``foo.bar`` are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(pin: Pin, client: RegistryClient, base_url: str) -> PinInfo:
    doc = client.get_json(f"{base_url}/pypi/{quote(normalize(pin.package), safe='')}/json")
    expect(isinstance(doc, dict) and isinstance(doc.get("info"), dict),
           "PyPI answer has no 'info' object")
    info = doc["info"]
    raw = doc.get("releases") or {}
    expect(isinstance(raw, dict), "PyPI 'releases' is not a mapping")
    releases = []
    for version, files in raw.items():
        expect(isinstance(files, list), f"PyPI release {version!r} is not a list of files")
        files = [f for f in files if isinstance(f, dict)]
        times = [t for t in (parse_time(f.get("upload_time_iso_8601") or f.get("upload_time")) for f in files) if t]
        yanked = bool(files) and all(f.get("yanked") for f in files)
        reason = next((f.get("yanked_reason") for f in files if f.get("yanked_reason")), None)
        releases.append(Release(str(version), min(times, default=None), yanked, note=reason if yanked else None))
    latest = info.get("version") if isinstance(info.get("version"), str) else None
    if latest and not raw:
        releases.append(Release(latest))
    return PinInfo("pypi", pin.package, releases, latest, _deprecation(doc, info))


def _deprecation(doc: dict, info: dict) -> str | None:
    for status in (doc.get("project-status"), info.get("project_status")):
        if isinstance(status, dict) and status.get("status") in ("archived", "deprecated", "quarantined"):
            reason = status.get("reason")
            return f"project is {status['status']}" + (f": {reason}" if reason else "")
    classifiers = info.get("classifiers")
    if isinstance(classifiers, list) and _INACTIVE in classifiers:
        return f"project declares '{_INACTIVE}'"
    return None
