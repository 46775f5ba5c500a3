"""Helm chart repositories: ``/index.yaml``.

A pin names ``REPO/CHART`` the way ``helm install bitnami/nginx`` does. The repository URL
comes from ``registries: {helm.REPO: URL}`` (or ``SKILLCTL_REGISTRY_HELM_REPO``), from a plain
``helm`` entry that serves every repo (a mirror), or from a few well-known public repos. The
index is fetched and parsed once per run however many charts are pinned from it: big public
indexes are tens of megabytes.
"""

from __future__ import annotations

from typing import Any

from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, PinMalformed, PinMissing, Release, expect, parse_time
from skillctl.rot.registries.http import RegistryClient

DEFAULT_BASE_URL = None
NETWORK = True
KNOWN_REPOS = {
    "bitnami": "https://charts.bitnami.com/bitnami",
    "prometheus-community": "https://prometheus-community.github.io/helm-charts",
    "grafana": "https://grafana.github.io/helm-charts",
    "jetstack": "https://charts.jetstack.io",
    "ingress-nginx": "https://kubernetes.github.io/ingress-nginx",
}


def split_package(package: str) -> tuple[str, str]:
    """``bitnami/nginx`` -> (``bitnami``, ``nginx``); a full URL -> (repo URL, chart)."""
    repo, sep, chart = package.strip().rstrip("/").rpartition("/")
    if not sep or not repo or not chart:
        raise PinMalformed(f"helm package must be REPO/CHART, got {package!r}")
    return repo, chart


def qualifier(package: str) -> str | None:
    try:
        repo, _ = split_package(package)
    except PinMalformed:
        return None
    return None if "://" in repo else repo


def default_base_url(package: str) -> str | None:
    try:
        repo, _ = split_package(package)
    except PinMalformed:
        return None
    return repo if "://" in repo else KNOWN_REPOS.get(repo)


def resolve(pin: Pin, client: RegistryClient, base_url: str) -> PinInfo:
    _, chart = split_package(pin.package)
    url = f"{base_url}/index.yaml"
    entries = client.memo(f"helm-index:{url}", lambda: _load_index(client, url))
    versions = entries.get(chart)
    if not versions:
        raise PinMissing(f"chart {chart!r} is not in {url}")
    expect(isinstance(versions, list), f"index entry for {chart!r} is not a list")
    releases = []
    for item in versions:
        expect(isinstance(item, dict) and item.get("version") is not None, f"{chart!r} entry without a version")
        created = item.get("created")
        releases.append(Release(str(item["version"]), parse_time(created),
                                deprecated="chart is marked deprecated" if item.get("deprecated") else None,
                                note=f"appVersion {item['appVersion']}" if item.get("appVersion") else None))
    newest = max(releases, key=lambda r: r.uploaded_at.timestamp() if r.uploaded_at else 0.0)
    return PinInfo("helm", pin.package, releases,
                   deprecated="chart is marked deprecated" if newest.deprecated else None)


def _load_index(client: RegistryClient, url: str) -> dict[str, Any]:
    import yaml

    text = client.request("GET", url, {"Accept": "application/x-yaml, text/yaml, */*"}).text()
    from skillctl.errors import InputError
    from skillctl.safeio import load_bounded

    try:  # a hostile registry could serve an alias bomb; real indexes use no aliases
        doc = load_bounded(text, url, max_nodes=20_000_000)
    except yaml.YAMLError as exc:
        raise PinMalformed(f"{url} is not valid YAML: {str(exc).splitlines()[0]}") from None
    except InputError as exc:
        raise PinMalformed(f"{url}: {exc.message}") from None
    expect(isinstance(doc, dict) and isinstance(doc.get("entries"), dict), f"{url} has no 'entries' mapping")
    return doc["entries"]
