"""Real-world skills from public collections: zero crashes, and exactly the problems we expect.

The counts below were verified by reading the flagged files, e.g. anthropic's claude-api has
a 1,068-character description (SK111), its template folder is named `template` while the
skill says `template-skill` (SK104), hermes' here-now declares `name: here.now` (SK103), and
hermes skills put `version`, `author`, `tags`... at the top level where the spec allows only
six fields (603 x SK121: warnings when lenient, errors under --strict).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import CORPORA

from skillctl.repo import discover_skills
from skillctl.validate import validate_paths

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found at {CORPORA}")

EXPECTED = {
    # corpus: (skills, lenient counts, strict counts)
    "anthropic": (13,
                  {"SK104:warning": 1, "SK111:error": 1, "SK130:warning": 1, "SK131:warning": 2},
                  {"SK104:error": 1, "SK111:error": 1, "SK130:warning": 1, "SK131:warning": 2}),
    "openai": (10, {}, {}),
    "superpowers": (14, {"SK130:warning": 1, "SK131:warning": 2}, {"SK130:warning": 1, "SK131:warning": 2}),
    "hermes": (189,
               {"SK103:error": 1, "SK104:warning": 18, "SK121:warning": 603, "SK124:info": 166,
                "SK130:warning": 21, "SK131:warning": 14},
               {"SK103:error": 1, "SK104:error": 18, "SK121:error": 603, "SK124:info": 166,
                "SK130:warning": 21, "SK131:warning": 14}),
}


@pytest.mark.parametrize("corpus", sorted(EXPECTED))
def test_corpus_counts(corpus: str) -> None:
    skills, lenient, strict = EXPECTED[corpus]
    root = CORPORA / corpus
    assert len(discover_skills(root)) == skills
    for mode, expected in ((False, lenient), (True, strict)):
        diags = validate_paths([root], strict=mode)
        got = Counter(f"{d.code}:{d.severity.value}" for d in diags)
        assert dict(got) == expected, (corpus, mode)
        assert not any(d.code.startswith("SK0") for d in diags)  # every real file is readable


def test_cli_over_all_corpora_never_crashes(cli) -> None:
    res = cli("validate", str(CORPORA))
    assert res.code == 1  # real errors exist (SK111, SK103), none unreadable
    assert "claude-api/SKILL.md:3: SK111 error: description is 1068 characters" in res.out
    assert "here-now/SKILL.md:2: SK103 error: name 'here.now'" in res.out


def test_corpora_are_left_untouched() -> None:
    before = {p: p.stat().st_mtime_ns for p in Path(CORPORA).rglob("SKILL.md")}
    validate_paths([CORPORA], strict=True)
    assert {p: p.stat().st_mtime_ns for p in Path(CORPORA).rglob("SKILL.md")} == before
