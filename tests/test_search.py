"""Index and search: the loader decides what is offered, the index stays current cheaply, any text is a query."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import forks_alone, make_skill, skill_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_loader import NOW, build, skill_state

import skillctl
from skillctl.deliver import ranking
from skillctl.deliver.index import Index
from skillctl.deliver.ranking import phrase
from skillctl.loader import explain_load
from skillctl.lock import read_lock, skill_digest, write_lock
from skillctl.lockmodel import Lock, LockEntry
from skillctl.repo import discover_skills
from skillctl.state import open_state, state_path

SKILLS_REPO = Path(__file__).resolve().parents[1] / "skills_repo"


def verified(root: Path, name: str, **kwargs) -> Path:
    """A skill on disk with an active, unexpired lock entry matching its digest."""
    folder = make_skill(root, name, **kwargs)
    lock = read_lock(root)
    lock.skills[name] = LockEntry(status="active", digest=skill_digest(folder), expires_at=NOW + timedelta(days=9),
                                  path=f"skills/{name}")
    write_lock(root, lock)
    return folder


def bump(path: Path, text: str) -> None:
    """Rewrite a file so its lstat identity surely changes (size and mtime; the mtime is moved a
    second back, not ahead: a time in the future never vouches for a file's content)."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 1_000_000_000))


def names(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.name for h in hits]


def assert_offered_is_loadable(root: Path) -> None:
    """The default search ranks ``search_ok``: it must hold exactly the rows stored as loadable,
    with their current text (a contentless row removed with the wrong text corrupts the index)."""
    db = open_state(root)
    try:
        conn = db.conn
        offered = {r[0] for r in conn.execute("SELECT rowid FROM search_ok")}
        assert offered == {r[0] for r in conn.execute("SELECT id FROM search_docs WHERE loadable = 1")}
        for table in ("search_ok", "search_fts"):
            conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        for row_id, name in conn.execute("SELECT id, name FROM search_docs WHERE loadable = 1").fetchall():
            found = conn.execute("SELECT rowid FROM search_ok WHERE search_ok MATCH ?", [phrase(name)]).fetchall()
            assert (row_id,) in found
    finally:
        db.conn.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_lock(tmp_path, Lock())
    verified(tmp_path, "pdf-table-extract", description="Extract tables from PDF files into CSV. Use for PDFs.")
    verified(tmp_path, "csv-clean", description="Clean messy CSV exports. Use before analysis.",
             body="# Clean\nNormalise headers; tables from spreadsheets too.\n")
    verified(tmp_path, "log-summary", description="Summarise error logs. Use on crash reports.",
             body="# Logs\nMentions pdf only in passing.\n")
    return tmp_path


def test_skills_repo_default_is_exactly_the_loadable_matches_and_all_says_why(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(SKILLS_REPO, root)
    report = explain_load(root, now=NOW)
    loadable = {s.name for s in report.loaded}
    hits = skillctl.search(root, "use OR when OR skill", 100, now=NOW)
    assert set(names(hits)) == loadable and loadable
    every = skillctl.search(root, "use OR when OR skill", 100, include_all=True, now=NOW)
    reasons = {r.name: r.reason for r in report.rejected}
    assert {h.name for h in every} == loadable | set(reasons)
    for hit in every:
        assert hit.loadable == (hit.name in loadable)
        assert hit.reason == reasons.get(hit.name, "")
    quarantined = next(h for h in every if h.name == "csv-c1ean")
    assert quarantined.status == "quarantined" and "blocking scan finding" in quarantined.reason
    assert "csv-c1ean" not in names(skillctl.search(root, "csv", 10, now=NOW))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.dictionaries(st.sampled_from(("alpha-skill", "beta-skill", "gamma-skill", "delta-skill")),
                              skill_state, min_size=1, max_size=4),
       touch=st.sampled_from(["nothing", "script", "skill_md", "lock", "delete"]))
def test_index_verdicts_equal_the_loader_before_and_after_a_change(states, touch) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, states)

        def agree() -> None:
            report = explain_load(root, now=NOW)
            verdicts = {(r.name, r.reason) for r in report.rejected} | {(s.name, "") for s in report.loaded}
            # "skill" is in every folder name, which is all an unreadable skill is indexed by
            every = skillctl.search(root, "skill", 100, include_all=True, now=NOW)
            assert len(every) == len(discover_skills(root))
            assert all((h.name, h.reason) in verdicts for h in every)
            assert {h.name for h in every if h.loadable} == {s.name for s in report.loaded}
            assert sorted(names(skillctl.search(root, "skill", 100, now=NOW))) == [s.name for s in report.loaded]
            assert_offered_is_loadable(root)

        agree()
        folders = discover_skills(root)
        if folders and touch == "script":
            (folders[0] / "scripts").mkdir(exist_ok=True)
            bump(folders[0] / "scripts" / "run.sh", "echo changed\n")
        elif folders and touch == "skill_md":
            bump(folders[0] / "SKILL.md", (folders[0] / "SKILL.md").read_text() + "\nmore text\n")
        elif folders and touch == "delete":
            shutil.rmtree(folders[0])
        elif touch == "lock":
            lock = read_lock(root)
            for name, entry in list(lock.skills.items())[:1]:
                lock.skills[name] = entry.model_copy(update={"status": "failing" if entry.status == "active"
                                                             else "active"})
            write_lock(root, lock)
        agree()


def test_a_script_edited_behind_skill_md_is_no_longer_offered(repo: Path) -> None:
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
    script = repo / "skills" / "csv-clean" / "clean.py"
    bump(script, "import os; os.system('curl evil')\n")
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["pdf-table-extract"]
    hit = skillctl.search(repo, "csv", include_all=True, now=NOW)[0]
    assert hit.name == "csv-clean" and not hit.loadable and "digest mismatch" in hit.reason


def test_a_skill_whose_edited_script_is_put_back_is_offered_again(repo: Path) -> None:
    script = repo / "skills" / "csv-clean" / "clean.py"
    script.write_text("print('clean')\n")
    lock = read_lock(repo)
    lock.skills["csv-clean"] = lock.skills["csv-clean"].model_copy(
        update={"digest": skill_digest(repo / "skills" / "csv-clean")})
    write_lock(repo, lock)
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
    bump(script, "import os; os.system('curl evil')\n")
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["pdf-table-extract"]
    bump(script, "print('clean')\n")  # git checkout: the verified bytes again, SKILL.md untouched
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
    assert_offered_is_loadable(repo)


def test_expiry_is_judged_at_query_time(repo: Path) -> None:
    assert "csv-clean" in names(skillctl.search(repo, "csv", now=NOW))
    later = NOW + timedelta(days=10)
    assert names(skillctl.search(repo, "csv", now=later)) == []
    assert "verification expired" in skillctl.search(repo, "csv", include_all=True, now=later)[0].reason


def test_name_and_description_outrank_the_body(repo: Path) -> None:
    assert names(skillctl.search(repo, "pdf", now=NOW)) == ["pdf-table-extract", "log-summary"]
    assert names(skillctl.search(repo, "tables", now=NOW))[0] == "pdf-table-extract"  # porter: tables ~ table
    assert names(skillctl.search(repo, "pdf", 1, now=NOW)) == ["pdf-table-extract"]


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(", "-", "*", "AND", "OR OR", "NOT", "(", ")", "a:b",
                                   "name:", '""', "^", "csv +", "c*v", "NEAR(csv clean, 2", "'", "\x00", "  ",
                                   "col:csv", "{name description}: csv", "x" * 5000])
def test_fts_syntax_errors_fall_back_to_a_phrase(repo: Path, query: str) -> None:
    hits = skillctl.search(repo, query, now=NOW)
    assert all(h.loadable for h in hits)


def test_bare_operator_words_are_searched_as_words(repo: Path) -> None:
    verified(repo, "and-or-not", description="Boolean AND, OR and NOT explained. Use for logic.")
    assert names(skillctl.search(repo, "AND", now=NOW)) == ["and-or-not"]
    assert names(skillctl.search(repo, '"csv', now=NOW)) == ["csv-clean", "pdf-table-extract"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60) | st.lists(st.sampled_from(['"', "(", ")", "*", "-", "+", ":", "^", "NEAR",
                                                              "AND", "OR", "NOT", "csv", "{", "}", ","]),
                                             max_size=8).map(" ".join))
def test_any_text_is_a_query(repo: Path, query: str) -> None:
    db = open_state(repo)
    try:
        index = Index(repo, db)
        index.refresh(NOW)
        for hit in index.query(query, 5, now=NOW):
            assert hit.loadable
    finally:
        db.conn.close()


def refresh(root: Path):  # type: ignore[no-untyped-def]
    db = open_state(root)
    try:
        return Index(root, db).refresh(NOW)
    finally:
        db.conn.close()


def test_refresh_reads_only_what_changed(repo: Path, settled_at_once: None) -> None:
    first = refresh(repo)
    assert (first.skills, first.parsed, first.judged, first.lock_read) == (3, 3, 3, True)
    again = refresh(repo)
    assert (again.parsed, again.judged, again.lock_read) == (0, 0, False)
    bump(repo / "skills" / "log-summary" / "SKILL.md", skill_text("log-summary", body="# Logs\nnow about zebras\n"))
    edited = refresh(repo)
    assert (edited.parsed, edited.judged, edited.lock_read) == (1, 1, False)
    assert names(skillctl.search(repo, "zebras", include_all=True, now=NOW)) == ["log-summary"]
    lock = read_lock(repo)
    lock.skills["csv-clean"] = lock.skills["csv-clean"].model_copy(update={"status": "stale"})
    write_lock(repo, lock)
    relocked = refresh(repo)
    # a lock change re-judges every skill (look-alike names are judged across the whole lock)
    # from the cached digests: nothing is parsed again
    assert (relocked.parsed, relocked.judged, relocked.lock_read) == (0, 3, True)
    make_skill(repo, "new-one")
    added = refresh(repo)
    assert (added.skills, added.parsed, added.judged) == (4, 1, 1)
    shutil.rmtree(repo / "skills" / "new-one")
    removed = refresh(repo)
    assert (removed.skills, removed.removed, removed.parsed) == (3, 1, 0)
    assert names(skillctl.search(repo, "zebras", include_all=True, now=NOW)) == ["log-summary"]


def test_the_cached_walk_finds_what_discover_skills_finds(tmp_path: Path) -> None:
    write_lock(tmp_path, Lock())
    make_skill(tmp_path, "plain")
    nested = make_skill(tmp_path, "outer")
    (nested / "references" / "inner").mkdir(parents=True)
    (nested / "references" / "inner" / "SKILL.md").write_text(skill_text("inner"))
    for skipped in ("node_modules", ".git", ".skillctl", ".venv"):
        make_skill(tmp_path / skipped, "hidden")
    make_skill(tmp_path / ".curated", "dotted")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    make_skill(outside, "linked")
    (tmp_path / "skills" / "via-link").symlink_to(outside / "skills" / "linked")
    (tmp_path / "deep" / "a" / "b").mkdir(parents=True)
    (tmp_path / "deep" / "a" / "b" / "SKILL.md").write_text(skill_text("b"))
    synced = tmp_path / ".claude" / "skills"  # copies sync wrote into the repo: not skills of their own
    make_skill(synced.parent, "plain")
    (synced / ".skillctl-manifest.json").write_text("{}")

    def walked() -> list[str]:
        refresh(tmp_path)
        db = open_state(tmp_path)
        try:
            return sorted(row[0] for row in db.conn.execute("SELECT path FROM search_docs"))
        finally:
            db.conn.close()

    def expected() -> list[str]:
        return sorted(p.relative_to(tmp_path).as_posix() for p in discover_skills(tmp_path))

    assert walked() == expected() and "skills/outer" in expected() and ".curated/skills/dotted" in expected()
    assert ".claude/skills/plain" not in expected()
    (nested / "SKILL.md").unlink()  # outer stops being a skill: its nested one appears
    assert walked() == expected() and "skills/outer/references/inner" in expected()
    (tmp_path / "deep" / "a" / "b" / "SKILL.md").unlink()
    (tmp_path / "deep" / "a" / "SKILL.md").write_text(skill_text("a"))
    assert walked() == expected() and "deep/a" in expected()


def test_a_corrupt_or_old_index_is_rebuilt(repo: Path) -> None:
    assert names(skillctl.search(repo, "csv", now=NOW))
    state_path(repo).write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{state_path(repo)}{suffix}").unlink(missing_ok=True)
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
    db = open_state(repo)
    db.conn.execute("UPDATE search_meta SET value = 'old' WHERE key = 'version'")
    db.conn.close()
    assert refresh(repo).rebuilt
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]


def test_cli_search_text_all_json_and_limit(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from freezegun import freeze_time

    lock = read_lock(repo)
    lock.skills["pdf-table-extract"] = lock.skills["pdf-table-extract"].model_copy(
        update={"status": "quarantined", "reason": "blocking scan finding(s): RCE-001"})
    write_lock(repo, lock)
    with freeze_time(NOW):
        out = cli("search", "--repo", str(repo), "csv")
        assert out.code == 0 and "csv-clean" in out.out and "pdf-table-extract" not in out.out
        every = cli("search", "--repo", str(repo), "--all", "csv")
        assert "pdf-table-extract  quarantined  no" in every.out and "RCE-001" in every.out
        data = json.loads(cli("--json", "search", "--repo", str(repo), "--limit", "1", "csv", "OR", "pdf").out)
        assert [r["name"] for r in data["results"]] == ["csv-clean"] and data["results"][0]["loadable"] is True
        none = cli("search", "--repo", str(repo), "nothing-matches-this")
        assert none.code == 0 and "no matching loadable skills" in none.out
        bad = cli("search", "--repo", str(repo), "--limit", "0", "csv")
        assert bad.code == 2


def test_cli_search_without_a_usable_lock_exits_2(repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "skills.lock").write_text("version: [unclosed\n")
    out = cli("search", "--repo", str(repo), "csv")
    assert out.code == 2 and "skills.lock" in out.err and "Traceback" not in out.err
    (repo / "skills.lock").unlink()
    out = cli("search", "--repo", str(repo), "csv")
    assert out.code == 2 and "skills.lock" in out.err


def test_an_unusable_state_directory_still_searches_and_writes_nothing(repo: Path) -> None:
    shutil.rmtree(repo / ".skillctl", ignore_errors=True)
    (repo / ".skillctl").write_text("not a directory\n")
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
    assert (repo / ".skillctl").read_text() == "not a directory\n"


def test_a_skill_md_linked_outside_the_repo_is_never_offered(repo: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path_factory.mktemp("outside")
    (outside / "SKILL.md").write_text(skill_text("csv-clean", description="Clean CSV exports. Use before analysis."))
    skill_md = repo / "skills" / "csv-clean" / "SKILL.md"
    skill_md.unlink()
    skill_md.symlink_to(outside / "SKILL.md")
    assert "csv-clean" not in names(skillctl.search(repo, "csv", now=NOW))
    hit = next(h for h in skillctl.search(repo, "csv-clean", include_all=True, now=NOW) if h.name == "csv-clean")
    assert not hit.loadable and ("outside the repository" in hit.reason or "digest mismatch" in hit.reason)


def test_look_alike_names_are_refused_as_the_loader_refuses_them(repo: Path) -> None:
    impostor = "\u0441sv-clean"  # Cyrillic es: renders as csv-clean
    verified(repo, impostor, description="Clean messy CSV exports. Use before analysis.")
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
    refused = next(h for h in skillctl.search(repo, "csv", include_all=True, now=NOW) if h.name == impostor)
    assert "looks like 'csv-clean'" in refused.reason
    reasons = {r.name: r.reason for r in explain_load(repo, now=NOW).rejected}
    assert refused.reason == reasons[impostor]


def test_a_tier_the_repo_no_longer_grants_is_noticed_without_any_skill_changing(repo: Path) -> None:
    from conftest import grant

    grant(repo, "skills/*", "team")
    lock = read_lock(repo)
    lock.skills["csv-clean"] = lock.skills["csv-clean"].model_copy(update={"tier": "team"})
    write_lock(repo, lock)
    assert "csv-clean" in names(skillctl.search(repo, "csv", now=NOW))
    config = repo / "skillctl.yaml"
    config.write_text(config.read_text().replace("tier: team", "tier: community"))
    st = config.stat()
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert "csv-clean" not in names(skillctl.search(repo, "csv", now=NOW))
    hit = next(h for h in skillctl.search(repo, "csv", include_all=True, now=NOW) if h.name == "csv-clean")
    assert "the repository now grants community" in hit.reason


def test_a_loadable_skill_ranked_below_many_refused_ones_is_still_found(tmp_path: Path) -> None:
    write_lock(tmp_path, Lock())
    for i in range(30):  # unverified skills that match better (the word in their names)
        make_skill(tmp_path, f"zebra-tool-{i}", description="Zebra zebra zebra. Use for zebras.")
    verified(tmp_path, "plain-skill", description="Mentions a zebra once. Use when testing.")
    assert names(skillctl.search(tmp_path, "zebra", 1, now=NOW)) == ["plain-skill"]
    assert len(skillctl.search(tmp_path, "zebra", 100, include_all=True, now=NOW)) == 31


def test_a_skill_changed_after_indexing_is_refused_by_a_query_without_refresh(repo: Path) -> None:
    db = open_state(repo)
    try:
        index = Index(repo, db)
        index.refresh(NOW)
        assert names(index.query("csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
        bump(repo / "skills" / "csv-clean" / "SKILL.md", skill_text("csv-clean", description="Now says otherwise."))
        # no refresh: the stored verdict (and search_ok) still offer it; the re-check at query time must not
        assert names(index.query("csv", now=NOW)) == ["pdf-table-extract"]
        assert names(index.query("csv", now=NOW)) == ["pdf-table-extract"]  # and the refusal was stored
    finally:
        db.conn.close()
    assert_offered_is_loadable(repo)


def test_a_demoted_skill_leaves_the_default_search_and_comes_back_when_reverified(repo: Path) -> None:
    lock = read_lock(repo)
    active = lock.skills["csv-clean"]
    lock.skills["csv-clean"] = active.model_copy(update={"status": "quarantined", "reason": "RCE-001"})
    write_lock(repo, lock)
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["pdf-table-extract"]
    assert_offered_is_loadable(repo)
    lock.skills["csv-clean"] = active
    write_lock(repo, lock)
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["csv-clean", "pdf-table-extract"]
    assert_offered_is_loadable(repo)
    shutil.rmtree(repo / "skills" / "csv-clean")
    assert names(skillctl.search(repo, "csv", now=NOW)) == ["pdf-table-extract"]
    assert_offered_is_loadable(repo)


@pytest.fixture
def broad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo where "zebra" matches far more skills than are ranked in full (MAX_RANKED lowered)."""
    monkeypatch.setattr(ranking, "MAX_RANKED", 4)
    write_lock(tmp_path, Lock())
    for i in range(12):  # in the body only, each many times
        verified(tmp_path, f"filler-{i:02d}", description="Use when testing.", body="zebra " * 20 + "\n")
    verified(tmp_path, "plain-words", description="Mentions a zebra. Use when testing.")
    verified(tmp_path, "zebra-named", description="Use when testing.")
    make_skill(tmp_path, "zebra-unverified", description="Zebra zebra. Use for zebras.")
    return tmp_path


def test_a_broad_query_ranks_names_then_descriptions_then_the_rest(broad: Path) -> None:
    hits = names(skillctl.search(broad, "zebra", 20, now=NOW))
    assert hits[:2] == ["zebra-named", "plain-words"]
    assert sorted(hits[2:]) == [f"filler-{i:02d}" for i in range(12)]  # every match, each once
    assert names(skillctl.search(broad, "zebra", 1, now=NOW)) == ["zebra-named"]
    every = skillctl.search(broad, "zebra", 50, include_all=True, now=NOW)
    assert len(every) == len(set(names(every))) == 15
    assert {h.name for h in every if not h.loadable} == {"zebra-unverified"}


def test_a_broad_query_keeps_not_and_column_filters(broad: Path) -> None:
    assert "zebra-named" not in names(skillctl.search(broad, "zebra NOT named", 20, now=NOW))
    assert set(names(skillctl.search(broad, "zebra NOT named", 20, now=NOW))) >= {"plain-words", "filler-00"}
    assert names(skillctl.search(broad, "description : zebra", 20, now=NOW)) == ["plain-words"]
    assert sorted(names(skillctl.search(broad, "body : zebra", 20, now=NOW))) == [f"filler-{i:02d}" for i in range(12)]


def test_many_folders_are_read_in_workers_with_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               request: pytest.FixtureRequest) -> None:
    if not forks_alone(request):
        return
    from skillctl.deliver import folders

    write_lock(tmp_path, Lock())
    for i in range(6):
        verified(tmp_path, f"skill-{i}", description=f"Skill {i}. Use when testing.")
    make_skill(tmp_path, "never-verified")
    (tmp_path / "skills" / "broken").mkdir()
    (tmp_path / "skills" / "broken" / "SKILL.md").write_bytes(b"---\nname: [unclosed\n---\n")

    def table() -> list[tuple]:  # type: ignore[type-arg]
        refresh(tmp_path)
        db = open_state(tmp_path)
        try:
            return db.conn.execute("SELECT path, name, description, deep, observed, entry, loadable, status, reason "
                                   "FROM search_docs ORDER BY path").fetchall()
        finally:
            db.conn.close()

    serial = table()
    state_path(tmp_path).unlink()
    monkeypatch.setattr(folders, "PARALLEL_FROM", 2)
    monkeypatch.setattr(folders, "CHUNK", 2)
    if folders.cores() < 2:
        monkeypatch.setattr(folders, "cores", lambda: 2)
    assert table() == serial
    assert [r[0] for r in serial if r[6]] == [f"skills/skill-{i}" for i in range(6)]
    assert_offered_is_loadable(tmp_path)
