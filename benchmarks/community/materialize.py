"""Materialize the community measurement corpus from git mirrors of the repositories in manifest.json.

Run: ``.venv/bin/python benchmarks/community/materialize.py [--manifest FILE] [--mirrors DIR] [--out DIR]
[--skip-known DIR]``.

The corpus is thousands of real skills from public collections. It is used only to measure how
many real skills the scanner blocks (false positives); rules are never written from its files.
Its content is not committed: the manifest pins each repository to a commit, and this script
extracts every skill folder (a directory holding ``SKILL.md``, with all its files, scripts
included) from a local mirror at that commit. Skills whose SKILL.md is byte-identical to one
already taken (collections copy each other) are skipped, so each skill counts once.

A mirror is a git directory at ``MIRRORS/<owner>+<name>/repo`` (or ``MIRRORS/<owner>+<name>``);
a repository without a mirror is skipped with a note. The default output is
``~/.cache/skillctl-bench/community`` (override with ``--out`` or ``SKILLCTL_COMMUNITY``).

A manifest entry may list ``exclude`` path prefixes (translations of the same skills, for
example). ``--skip-known DIR`` also skips every skill whose SKILL.md is byte-identical to one
under DIR: ``fresh-manifest.json`` is materialized with the first corpus as DIR, so the fresh
set holds no skill any calibration has seen.

A mirror may be a partial snapshot that lacks its largest blobs: files are read one by one and
missing or large ones skipped, so the corpus is the same whether or not they are present.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
DEFAULT_OUT = Path(os.environ.get("SKILLCTL_COMMUNITY", Path.home() / ".cache" / "skillctl-bench" / "community"))
DEFAULT_MIRRORS = Path(os.environ.get("SKILLCTL_MIRRORS", "/work/.mirror"))
MAX_FILE = 1024 * 1024  # larger files (datasets, media) add nothing to a false-positive count


def git_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+")
    for candidate in (base / "repo", base):
        if (candidate / "HEAD").is_file() or (candidate / ".git").exists():
            return candidate
    return None


def skill_dirs(gdir: Path, commit: str, exclude: tuple[str, ...] = ()) -> list[str]:
    out = subprocess.run(["git", "--git-dir", str(gdir), "ls-tree", "-r", "--name-only", commit],
                         check=True, capture_output=True, text=True).stdout
    dirs = [p[: -len("/SKILL.md")] for p in out.splitlines() if p.endswith("/SKILL.md") and not p.startswith(exclude)]
    return sorted(set(dirs))


def known_digests(directory: Path) -> set[str]:
    """SHA-256 of every SKILL.md under *directory* (a corpus materialized before)."""
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.rglob("SKILL.md") if p.is_file()}


def _blobs(gdir: Path, commit: str, dirs: list[str]) -> list[tuple[str, str, int]]:
    """``(path, blob id, size)`` of every file under *dirs* at *commit* (size -1: not stored here,
    which ``ls-tree -l`` prints as ``-`` or ``BAD``)."""
    out = subprocess.run(["git", "--git-dir", str(gdir), "ls-tree", "-r", "-l", "-z", commit, "--", *dirs],
                         check=True, capture_output=True).stdout
    blobs = []
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        _mode, kind, oid, size = meta.split()
        if kind == b"blob":
            blobs.append((path.decode("utf-8", "surrogateescape"), oid.decode(), int(size) if size.isdigit() else -1))
    return blobs


def _read(gdir: Path, oids: list[str]) -> dict[str, bytes]:
    """The content of each blob present in the mirror; a snapshot may lack its largest files."""
    request = "".join(o + "\n" for o in oids).encode()
    proc = subprocess.run(["git", "--git-dir", str(gdir), "cat-file", "--batch"], input=request,
                          check=True, capture_output=True)
    data, at, found = proc.stdout, 0, {}
    while at < len(data):
        eol = data.index(b"\n", at)
        head = data[at:eol].split()
        at = eol + 1
        if len(head) == 2 and head[1] == b"missing":
            continue
        size = int(head[2])
        found[head[0].decode()] = data[at:at + size]
        at += size + 1
    return found


def extract(gdir: Path, commit: str, dirs: list[str], dest: Path, seen: set[str]) -> tuple[int, int]:
    """Extract *dirs* (skill folders) of *commit* under *dest*; returns (taken, duplicates).

    Files are read blob by blob (``git cat-file --batch``) rather than through ``git archive``,
    which stops at the first blob a partial mirror does not hold; files over ``MAX_FILE`` and
    missing blobs are skipped (they add nothing to a false-positive count).
    """
    blobs = [(p, o, n) for p, o, n in _blobs(gdir, commit, dirs) if 0 <= n <= MAX_FILE]
    content = _read(gdir, sorted({o for _p, o, _n in blobs}))
    members: dict[str, list[tuple[str, str]]] = {d: [] for d in dirs}
    roots = sorted(dirs, key=len, reverse=True)
    skill_md: dict[str, bytes] = {}
    for path, oid, _size in blobs:
        owner = next((d for d in roots if path.startswith(d + "/")), None)
        if owner is None or oid not in content:
            continue
        members[owner].append((path, oid))
        if path == owner + "/SKILL.md":
            skill_md[owner] = content[oid]
    taken = dupes = 0
    for d in dirs:
        digest = hashlib.sha256(skill_md.get(d, b"")).hexdigest()
        if d not in skill_md or digest in seen:
            dupes += 1
            continue
        seen.add(digest)
        taken += 1
        for path, oid in members[d]:
            target = dest / path
            # a nested skill's files belong to it, not to its parent folder
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content[oid])
    return taken, dupes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--skip-known", type=Path, action="append", default=[],
                    help="skip skills whose SKILL.md is already in this corpus (repeatable)")
    args = ap.parse_args()
    manifest = json.loads(args.manifest.read_text())
    seen: set[str] = set()
    for known in args.skip_known:
        seen |= known_digests(known)
        print(f"  {len(seen)} SKILL.md digests known after reading {known}")
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    total = 0
    for entry in manifest["repos"]:
        gdir = git_dir(args.mirrors, entry["repo"])
        if gdir is None:
            print(f"  {entry['repo']}: no mirror under {args.mirrors}, skipped", file=sys.stderr)
            continue
        dirs = skill_dirs(gdir, entry["commit"], tuple(entry.get("exclude", ())))
        taken, dupes = extract(gdir, entry["commit"], dirs, args.out / entry["repo"].replace("/", "+"), seen)
        total += taken
        print(f"  {entry['repo']} @ {entry['commit'][:10]}: {taken} skills ({dupes} duplicates skipped)")
    print(f"{total} skills in {args.out}")


if __name__ == "__main__":
    main()
