"""Version ordering and ranges, per scheme: what makes "outdated" mean the right thing."""

from __future__ import annotations

import pytest

from skillctl.rot.versioning import behind, parse_constraint, parse_version


@pytest.mark.parametrize(("scheme", "spec", "yes", "no"), [
    ("pep440", ">=3.10", ["3.10", "3.11.7"], ["3.9"]),
    ("pep440", "~=1.4", ["1.4", "1.9"], ["1.3", "2.0"]),
    ("pep440", "==2.*", ["2.0", "2.9.1"], ["3.0"]),
    ("pep440", "^1.2", ["1.2", "1.9"], ["2.0"]),
    ("semver", "^1.2", ["1.2.0", "1.9.9"], ["1.1.9", "2.0.0"]),
    ("semver", "^0.2.3", ["0.2.9"], ["0.3.0"]),
    ("semver", "^0.0.3", ["0.0.3"], ["0.0.4"]),
    ("semver", "~1.2", ["1.2.5"], ["1.3.0"]),
    ("semver", "~1", ["1.9.0"], ["2.0.0"]),
    ("semver", "1.x", ["1.0.0", "1.5"], ["2.0"]),
    ("semver", ">=1.2, <1.4 || ^3", ["1.3.0", "3.9"], ["1.4.0", "2.0"]),
    ("semver", ">= 3.10", ["3.11.7"], ["3.9.1"]),
    ("semver", "*", ["0.0.1", "99"], []),
    ("docker", "3.12-slim", ["3.12-slim"], ["3.12", "3.13-slim"]),
])
def test_constraints(scheme, spec, yes, no):
    c = parse_constraint(spec, scheme)
    assert c is not None
    for v in yes:
        assert c.allows(parse_version(v, scheme)), (spec, v)
    for v in no:
        assert not c.allows(parse_version(v, scheme)), (spec, v)


def test_exact_pins_match_tag_spellings():
    c = parse_constraint("8.21.2", "semver")
    assert c.exact is not None
    assert c.allows(parse_version("v8.21.2", "semver"))
    assert c.allows(parse_version("gitleaks-8.21.2", "semver"))
    assert not c.allows(parse_version("v8.21.3", "semver"))


@pytest.mark.parametrize("bad", ["garbage<<", "^x", ">=", "~=banana"])
def test_unparseable_constraints_are_none(bad):
    assert parse_constraint(bad, "semver") is None


@pytest.mark.parametrize(("a", "b", "scheme", "level"), [
    ("1.26.5", "2.5.0", "pep440", "major"),
    ("2.2.3", "2.3.2", "pep440", "minor"),
    ("3.0.3", "3.0.4", "pep440", "patch"),
    ("2.0", "2.0.0", "pep440", None),
    ("2.3.2", "2.2.3", "pep440", None),
    ("1.0.0-rc.1", "1.0.0", "semver", "patch"),
    ("v0.17.1", "v0.18.1", "semver", "minor"),
    ("3.8-slim", "3.13-slim", "docker", "minor"),
    ("2024.9.11", "2026.9.1", "pep440", "minor"),  # calendar versions: a new year is not a break
])
def test_behind(a, b, scheme, level):
    assert behind(parse_version(a, scheme), parse_version(b, scheme)) == level


def test_prerelease_ordering_and_flags():
    rc = parse_version("2.0.0-rc.2", "semver")
    rc10 = parse_version("2.0.0-rc.10", "semver")
    final = parse_version("2.0.0", "semver")
    assert rc.prerelease and rc.key < rc10.key < final.key
    assert parse_version("3.0.0rc1", "pep440").prerelease
    assert parse_version("3.14.0rc2", "docker").prerelease
    assert not parse_version("3.12-slim", "docker").prerelease


def test_docker_tags_compare_only_within_variant_and_shape():
    slim = parse_version("3.12-slim", "docker")
    assert slim.comparable(parse_version("3.13-slim", "docker"))
    assert not slim.comparable(parse_version("3.13-alpine", "docker"))
    assert not slim.comparable(parse_version("3.13.1-slim", "docker"))
    assert parse_version("latest", "docker") is None
