"""Pin rot: judge what a registry said about a package against what a skill pinned.

Findings per pin, in the vocabulary Renovate/Dependabot users know:

- ``ok``; ``outdated`` (``patch``/``minor``/``major`` behind, with the latest version; a URL
  whose ETag/Last-Modified moved is ``outdated`` at level ``changed``);
- ``yanked``, ``deprecated``, ``abandoned`` (no release for ``abandoned_after``, default 540
  days), ``missing`` (the package or the pinned version does not exist);
- ``unreachable`` (no answer: network, timeout, 5xx) and ``error`` (an answer we cannot read).

The policy decides which findings make a skill stale; ``unreachable`` never does on its own,
because a registry outage is not evidence that a skill rotted. Releases younger than
``min_release_age`` are ignored when computing "latest" (a release published an hour ago
may still be yanked). This module is pure: the network lives in ``skillctl.rot.registries``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from skillctl.config import RepoConfig
from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, PinMissing, parse_time
from skillctl.rot.registries.resolve import Lookup
from skillctl.rot.versioning import Version, behind, parse_constraint, parse_version, scheme_for
from skillctl.vocab import DEFAULT_STALE_ON

NO_ABANDON = frozenset({"tool", "url", "docker"})


@dataclass(frozen=True)
class RotPolicy:
    """Which findings demote a skill, read from ``policy:`` in skillctl.yaml."""

    stale_on: frozenset[str] = frozenset(DEFAULT_STALE_ON)
    abandoned_after: timedelta = timedelta(days=540)
    min_release_age: timedelta = timedelta(0)

    @classmethod
    def from_config(cls, config: RepoConfig) -> RotPolicy:
        """``policy:`` of a RepoConfig; its schema has already checked every value."""
        policy = config.policy
        return cls(frozenset(policy.stale_on), policy.abandoned_after, policy.min_release_age)

    def blocks(self, finding: PinFinding) -> bool:
        if finding.kind == "outdated":
            return "outdated" in self.stale_on or finding.level in self.stale_on
        return finding.kind in self.stale_on


@dataclass
class PinFinding:
    kind: str
    message: str
    level: str | None = None
    latest: str | None = None


@dataclass
class PinReport:
    """Every finding for one pin, plus what it resolved to and where the answer came from."""

    pin: Pin
    findings: list[PinFinding] = field(default_factory=list)
    resolved: str | None = None
    latest: str | None = None
    source: str = "network"
    checked_at: datetime | None = None

    def blocking(self, policy: RotPolicy) -> list[PinFinding]:
        return [f for f in self.findings if policy.blocks(f)]

    @property
    def worst(self) -> str:
        order = ("error", "missing", "yanked", "deprecated", "outdated", "abandoned", "unreachable", "ok")
        return min((f.kind for f in self.findings), key=order.index, default="ok")

    def to_json(self) -> dict[str, Any]:
        return {
            "datasource": self.pin.datasource, "package": self.pin.package, "version": self.pin.version,
            "line": self.pin.line, "resolved": self.resolved, "latest": self.latest, "source": self.source,
            "checked_at": self.checked_at, "findings": [f.__dict__ for f in self.findings],
        }


def judge(pin: Pin, lookup: Lookup, policy: RotPolicy, now: datetime) -> PinReport:
    """All findings for *pin* given what its registry said (or failed to say)."""
    report = PinReport(pin, source=lookup.source, checked_at=lookup.fetched_at)
    if lookup.error is not None:
        report.findings.append(PinFinding(lookup.error.kind, lookup.error.message))
        if isinstance(lookup.error, PinMissing) or lookup.info is None:
            return report
        report.findings[-1].message += " (judged from the last cached answer)"
    assert lookup.info is not None
    if pin.datasource == "url":
        ok = _judge_url(pin, lookup.info, report)
    elif pin.datasource == "tool":
        ok = _judge_tool(pin, lookup.info, report)
    else:
        ok = _judge_releases(pin, lookup.info, policy, now, report)
    if not any(f.kind != "unreachable" for f in report.findings):
        report.findings.insert(0, PinFinding("ok", ok, latest=report.latest))
    return report


def _judge_releases(pin: Pin, info: PinInfo, policy: RotPolicy, now: datetime, report: PinReport) -> str:
    scheme = scheme_for(pin.datasource)
    constraint = parse_constraint(pin.version, scheme)
    if constraint is None:
        report.findings.append(PinFinding("error", f"cannot understand version {pin.version!r}"))
        return ""
    if info.deprecated:
        report.findings.append(PinFinding("deprecated", info.deprecated))
    parsed = [(r, v) for r in info.releases if (v := parse_version(r.version, scheme)) is not None]
    if constraint.exact is not None:
        pinned: Version | None = constraint.exact
        match = next((r for r, v in parsed if r.version == pin.version), None) or next(
            (r for r, v in parsed if v.comparable(constraint.exact) and v.key == constraint.exact.key), None)
        if match is None and info.complete:
            report.findings.append(PinFinding("missing", f"version {pin.version} is not published"))
    else:
        allowed = [(r, v) for r, v in parsed if constraint.allows(v)]
        usable = [(r, v) for r, v in allowed
                  if not r.yanked and not ((r.prerelease or v.prerelease) and not constraint.prerelease)]
        best = max(usable or allowed, key=lambda rv: rv[1].key, default=None)
        if best is None:
            report.findings.append(PinFinding("missing", f"no published version satisfies {pin.version}"))
            return ""
        match, pinned = best
        report.resolved = match.version
    if match is not None and match.yanked:
        report.findings.append(PinFinding("yanked", f"{match.version} was yanked"
                                          + (f": {match.note}" if match.note else "")))
    if match is not None and match.deprecated and not info.deprecated:
        report.findings.append(PinFinding("deprecated", f"{match.version} is deprecated: {match.deprecated}"))
    latest = _latest(info, parsed, pinned, constraint.prerelease, policy, now)
    if latest is not None:
        report.latest = latest[0].version
        if pinned is not None and not constraint.allows(latest[1]):
            level = behind(pinned, latest[1])
            if level:
                report.findings.append(PinFinding(
                    "outdated", f"{level} update available: {pinned.text} -> {latest[0].version}",
                    level, latest[0].version))
    _judge_age(pin, info, policy, now, report)
    if constraint.exact is None:
        return f"{report.resolved} satisfies {pin.version}" + (
            f", as does the latest ({report.latest})" if report.latest and report.latest != report.resolved else "")
    if report.latest is None or report.latest == pin.version:
        return f"{pin.version} is the latest release"
    return f"{pin.version} is current (latest release {report.latest})"


def _latest(info: PinInfo, parsed: list, pinned: Version | None, pre: bool, policy: RotPolicy,
            now: datetime) -> tuple[Any, Version] | None:
    """Newest release an update would move to: not yanked, not a pre-release (unless the pin
    is one), old enough, the same Docker variant, and not past the registry's own 'latest'."""
    scheme = scheme_for(info.datasource)
    cap = parse_version(info.latest, scheme) if info.latest else None
    cutoff = now - policy.min_release_age
    eligible = [
        (r, v) for r, v in parsed
        if not r.yanked and (pre or not (r.prerelease or v.prerelease))
        and (r.uploaded_at is None or policy.min_release_age <= timedelta(0) or r.uploaded_at <= cutoff)
        and (pinned is None or v.comparable(pinned))
        and (cap is None or not v.comparable(cap) or v.key <= cap.key or (pre and v.prerelease))
    ]
    return max(eligible, key=lambda rv: rv[1].key, default=None)


def _judge_age(pin: Pin, info: PinInfo, policy: RotPolicy, now: datetime, report: PinReport) -> None:
    if pin.datasource in NO_ABANDON:
        return
    times = [r.uploaded_at for r in info.releases if r.uploaded_at is not None]
    if not times:
        return
    last = max(times)
    if now - last >= policy.abandoned_after:
        report.findings.append(PinFinding(
            "abandoned", f"no release since {last:%Y-%m-%d} ({(now - last).days} days)"))


def _judge_tool(pin: Pin, info: PinInfo, report: PinReport) -> str:
    installed = info.latest or ""
    report.resolved = report.latest = installed
    constraint = parse_constraint(pin.version, "semver")
    have = parse_version(installed, "semver")
    if constraint is None or have is None:
        report.findings.append(PinFinding("error", f"cannot compare {installed!r} with {pin.version!r}"))
        return ""
    if constraint.allows(have):
        return f"{pin.package} {installed} installed, satisfies {pin.version}"
    exact = constraint.exact
    if exact is not None and have.key > exact.key:
        level = behind(exact, have) or "patch"
        report.findings.append(PinFinding("outdated", f"{pin.package} {installed} is installed, the pin says "
                                          f"{pin.version} ({level} behind)", level, installed))
    else:
        report.findings.append(PinFinding("missing", f"{pin.package} {installed} is installed; the skill "
                                          f"needs {pin.version}"))
    return ""


_ETAG_CLEAN = re.compile(r'^(?:W/)?"?(.*?)"?$')


def _judge_url(pin: Pin, info: PinInfo, report: PinReport) -> str:
    want = pin.version.strip()
    etag = info.meta.get("etag")
    report.latest = etag or info.meta.get("last_modified")
    if want in ("", "*", "any"):
        return f"reachable (HTTP {info.meta.get('status', '200')})"
    if want.lower().startswith("last-modified:") or parse_time(want) is not None:
        stamp = want.split(":", 1)[1].strip() if want.lower().startswith("last-modified:") else want
        since = parse_time(stamp)
        modified = info.releases[0].uploaded_at if info.releases else None
        day_only = re.fullmatch(r"\d{4}-\d{2}-\d{2}", stamp) is not None
        report.latest = info.meta.get("last_modified")
        if since is not None and modified is not None and (
                modified.date() > since.date() if day_only else modified > since):
            report.findings.append(PinFinding("outdated", f"changed since {want} (Last-Modified "
                                              f"{info.meta.get('last_modified')})", "changed", report.latest))
        return f"unchanged since {stamp} (Last-Modified {info.meta.get('last_modified', 'not sent')})"
    expected = want[5:] if want.lower().startswith("etag:") else want
    if etag is None:
        report.findings.append(PinFinding("outdated", "server no longer sends an ETag to compare", "changed"))
    elif _ETAG_CLEAN.sub(r"\1", etag) != _ETAG_CLEAN.sub(r"\1", expected.strip()):
        report.findings.append(PinFinding("outdated", f"ETag changed: {expected} -> {etag}", "changed", etag))
    return f"unchanged (ETag {etag})"
