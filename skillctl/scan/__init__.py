"""``scan``: every file of every skill against the rule packs and the analyzers.

Skills are untrusted input that an agent follows with its full permissions, so the scanner
reads everything a skill ships (SKILL.md frontmatter and body, scripts, references), decodes
what is hidden (invisible Unicode, base64/hex payloads), and rates each hit by where it sits
(``scan_context``). Whether a finding *blocks* is the policy's call (``policy.py``), made from
the skill's trust tier. The library API is ``scan_skill`` and ``scan_paths``; ``verify`` runs
``scan_skill`` before executing anything and ``validate --scan`` reuses ``scan_paths``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from skillctl.errors import InputError
from skillctl.model import Finding, Skill
from skillctl.policy import CAPABILITY_RULE, Policy, TierDecision, capability_problem, effective_tier
from skillctl.repo import relpath
from skillctl.scan.allowances import ALLOWED, Hit, allowance, following
from skillctl.scan.code import analyze_script, private_keys
from skillctl.scan.context import (
    QUOTING_LANGS,
    CodeFile,
    MarkdownMap,
    cap,
    hidden_comments,
    is_defensive,
    is_education,
    rate,
    rate_code,
)
from skillctl.scan.decode import decode_blobs
from skillctl.scan.files import SkillFile, asks_to_run, read_text, skill_files
from skillctl.scan.instructions import agent_instructions
from skillctl.scan.names import NameIndex, established_names
from skillctl.scan.prereq import fake_prerequisites, installer_rating, subject_words
from skillctl.scan.rules import RuleSet, load_rules
from skillctl.scan.suppress import apply_suppressions, repo_suppressions
from skillctl.scan.tools import tool_breadth
from skillctl.scan.unicode import ANY_HIDDEN, find_hidden, strip_invisible
from skillctl.scan.wording import describes, documents_option, names_mode, option_help, usage_line
from skillctl.vocab import SEVERITIES

SNIPPET = 160
# Rules (piped installers, pip/npm installs from URLs) whose severity also depends on where the code comes from (``prereq.installer_rating``).  # noqa: E501
SOURCE_RATED = frozenset({"RCE-001", "RCE-006"})
# Enumerating the environment (EXFIL-007 on os.environ.items() and the like) is evidence only in a
# file that also sends something over the network; elsewhere it is how programs pass variables on.
LOCAL_ONLY = frozenset({"EXFIL-007"})
# Orders to the agent about approvals and concealment: in markdown prose, a reference entry for an
# option documents it, and (for the first two) a third-person sentence describes a product (wording.py).
WORDED = frozenset({"INJ-003", "INJ-004", "INJ-008", "AGENT-APPROVAL-002"})
DESCRIBED = frozenset({"INJ-003", "INJ-004"})
# Approval flags and modes: in prose they are named far more often than used (wording.names_mode).
NAMED_MODES = frozenset({"INJ-008", "AGENT-APPROVAL-002"})
# An enumeration of the environment that picks variables by their name right away.
_BY_NAME = re.compile(r"^[^\n]*\.filter\(\s*\(?\s*\w+\s*\)?\s*=>\s*\{?\s*(?:return\s+)?[^\n]{0,40}\b\w+\."
                      r"(?:startsWith|endsWith|test|match|includes)\(|^[^\n]*\n[^\n]*\bif\s+\w+\."
                      r"(?:startswith|endswith)\(|^[^\n]*\n[^\n]*\bif\s+\w+\s+(?:==|in)\s", re.IGNORECASE)
_SENDS = re.compile(r"\b(?:requests|httpx|aiohttp|session|client)\.(?:post|put|patch|request)\b|\burlopen\b|"
                    r"urllib\.request|\bfetch\(|\baxios\b|https?\.request\(|\bcurl\b|\bwget\b|Invoke-(?:RestMethod|WebRequest)|"
                    r"\bsocket\b|\bsmtplib\b|\bnc\b|webhook", re.IGNORECASE)


@dataclass
class Scanner:
    """Everything that is the same for all skills of one run: rules, policy, suppressions."""

    rules: RuleSet
    policy: Policy = field(default_factory=Policy)
    suppress: list[dict[str, str]] = field(default_factory=list)
    root: Path | None = None
    lock: Any = None  # a Lock: import source tiers and approvals it records count (policy.effective_tier)
    established: frozenset[str] | None = None  # None: the names skills.lock under root vouches for
    _root_resolved: Path | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def names(self) -> NameIndex:
        """The fixed reference look-alike names are judged against (never the batch being scanned)."""
        if self.established is None:
            self.established = established_names(self.root)
        return _index(self.established)

    @classmethod
    def from_config(cls, config: Any = None, *, root: Path | None = None,
                    extra_rules: Iterable[Path | str] = (), lock: Any = None) -> Scanner:
        base = Path(config.path).parent if config is not None and getattr(config, "path", None) else root
        packs = [Path(p) if Path(p).is_absolute() or base is None else base / p
                 for p in (getattr(config, "rules", None) or [])]
        return cls(
            rules=load_rules([*packs, *extra_rules]),
            policy=Policy.from_config(config),
            suppress=repo_suppressions(config),
            root=root,
            lock=lock if lock is not None else _lock_at(root),
        )

    def tier_of(self, skill: Skill | None, folder: Path | None = None, *, rel: str | None = None) -> TierDecision:
        """The skill's effective tier: granted by the repo (config, lock), only lowered by the skill."""
        folder = folder if folder is not None else skill.folder if skill is not None else None
        if rel is None and folder is not None and self.root is not None:
            rel = self._relpath(folder)
        entry = None
        if self.lock is not None and skill is not None:
            entry = self.lock.skills.get(skill.name)
        digest = None
        if entry is not None and entry.approval is not None and entry.approval.tier and folder is not None:
            from skillctl.lock import skill_digest

            try:
                digest = skill_digest(folder, root=self.root)
            except InputError:
                digest = None
        return effective_tier(self.policy, skill, rel=rel, entry=entry, digest=digest)

    def _inside(self, path: Path) -> str | None:
        """*path* relative to the root (``repo.relpath``), or None when outside it or unresolvable.

        The root is resolved once per scanner (when absolute): ``resolve`` costs a system call per
        path component, and the scan used to pay it for every file.
        """
        if self.root is None:
            return None
        if self._root_resolved is None or not Path(self.root).is_absolute():
            try:
                self._root_resolved = Path(self.root).resolve()
            except OSError:
                return None
        try:
            return Path(path).resolve().relative_to(self._root_resolved).as_posix()
        except (ValueError, OSError):
            return None

    def _relpath(self, path: Path) -> str:
        inside = self._inside(path)
        return inside if inside is not None else Path(path).as_posix()

    def _prefix(self, folder: Path) -> tuple[str | None, str]:
        """``(folder relative to the root or None, display prefix of the files under it)``.

        A file reached by walking real folders (``skill_files`` never follows a linked folder)
        resolves to the folder's resolved path plus its relative path, so one ``resolve`` per
        skill gives every file's display path.
        """
        inside = self._inside(folder) if self.root is not None else None
        shown = Path(folder).as_posix() if inside is None else inside
        return inside, "" if shown == "." else shown + "/"

    # -- one skill -----------------------------------------------------------------------------

    def scan(self, skill: Skill) -> list[Finding]:
        """All findings for one parsed skill, suppressions applied, ``blocking`` set by policy.

        Nothing here depends on which other skills are scanned in the same run.
        """
        return self.scan_with_tier(skill)[1]

    def scan_with_tier(self, skill: Skill) -> tuple[str, list[Finding]]:
        """The skill's tier and its findings (``scan``; the tier is worked out once for both)."""
        names = self.names
        inside, prefix = self._prefix(skill.folder)
        tier = self.tier_of(skill, rel=inside if inside is not None or self.root is None
                            else Path(skill.folder).as_posix()).tier
        # "security" for a skill about attacks, "defensive" when it is about detecting them (context.py)
        education = ("defensive" if is_defensive(skill.name) else "security") if is_education(
            skill.name, skill.description) else ""
        subject = subject_words(skill.name, skill.description)
        findings: list[Finding] = []
        texts: dict[str, str] = {}
        md_text = read_text(skill.skill_md)
        linked = skill.skill_md.parent != skill.folder or os.path.islink(skill.skill_md)
        skill_md = self._display(skill.skill_md) if linked else prefix + skill.skill_md.name
        if md_text is not None:
            texts[skill_md] = md_text
            lines = md_text.split("\n")
            head = "\n".join(lines[: max(skill.body_line - 1, 0)])
            body = "\n".join(lines[max(skill.body_line - 1, 0):])
            findings += self._scan_text(head, "frontmatter", skill_md, 1, None, education, subject)
            findings += self._scan_text(body, "body", skill_md, skill.body_line,
                                        MarkdownMap(body, skill.body_line), education, subject)
        findings += self._analyze_frontmatter(skill, skill_md, names)
        run_texts = [t for t in (md_text,) if t]
        for f in skill_files(skill.folder):
            findings += self._scan_file(f, education, run_texts, texts, subject, prefix)
        findings += self._analyze_checks(skill, skill_md, tier)
        return tier, self._finish(findings, texts, tier)

    def scan_unparsed(self, folder: Path) -> list[Finding]:
        """A skill whose SKILL.md does not parse is still scanned, as plain text, at default trust."""
        return self.scan_unparsed_with_tier(folder)[1]

    def scan_unparsed_with_tier(self, folder: Path) -> tuple[str, list[Finding]]:
        findings: list[Finding] = []
        texts: dict[str, str] = {}
        run_texts: list[str] = []
        inside, prefix = self._prefix(folder)
        for f in skill_files(folder, include_skill_md=True):
            if f.rel == "SKILL.md":
                f.kind = "body"
                if f.text:
                    run_texts.append(f.text)
            findings += self._scan_file(f, "", run_texts, texts, subject_words(folder.name, ""), prefix)
        tier = self.tier_of(None, folder, rel=inside if inside is not None or self.root is None
                            else Path(folder).as_posix()).tier
        return tier, self._finish(findings, texts, tier)

    def _finish(self, findings: list[Finding], texts: dict[str, str], tier: str) -> list[Finding]:
        # one finding per rule and line; of two on the same line (two URLs of one step) the more severe
        unique: dict[tuple[str, str, int | None, str], Finding] = {}
        for f in findings:
            key = (f.rule_id, f.path, f.line, f.snippet)
            if key not in unique or SEVERITIES.index(f.severity) > SEVERITIES.index(unique[key].severity):
                unique[key] = f
        result = apply_suppressions(list(unique.values()), texts, self.suppress, tier, self.policy, self.root)
        for f in result:
            f.blocking = not f.suppressed and self.policy.blocks(f.severity, tier)
        result.sort(key=lambda f: (f.path, f.line or 0, f.rule_id))
        return result

    def _display(self, path: Path) -> str:
        return relpath(Path(path), self.root) if self.root is not None else Path(path).as_posix()

    # -- text ----------------------------------------------------------------------------------

    def _scan_text(self, text: str, kind: str, path: str, first_line: int, mdmap: MarkdownMap | None,
                   education: str, subject: frozenset[str] = frozenset(), rel: str = "") -> list[Finding]:
        out: list[Finding] = []
        offset = first_line - 1
        if ANY_HIDDEN.search(text) is not None:
            for h in find_hidden(text, code=kind == "scripts"):
                out.append(Finding(rule_id=h.rule_id, category="hidden-unicode", severity=h.severity,
                                   path=path, line=h.line + offset, message=h.message, snippet=h.snippet,
                                   remediation="Remove the invisible characters; if text must stay, write it "
                                               "visibly."))
                if h.decoded:
                    out += self._rescan(h.decoded, "body", path, h.line + offset, "hidden text")
            text = strip_invisible(text)
        code: CodeFile | None = None  # built on the first hit in code, if any
        sends: bool | None = None
        for lineno, line, rule, m in self.rules.match_lines(text, kind):
            severity, why = rule.severity, None
            if rule.explainable and mdmap is not None:
                severity, why = rate(rule.severity, mdmap=mdmap, line=lineno + offset, line_text=line,
                                     match_start=m.start(), education=bool(education),
                                     defensive=education == "defensive", instruction=_instruction(rule))
                if why is None and rule.id in WORDED:
                    severity, why = _worded(severity, rule.id, mdmap, lineno + offset, line, m.start(), m.end())
            elif rule.explainable and kind in ("scripts", "references"):
                if code is None:
                    code = CodeFile(text, rel)
                severity, why = rate_code(rule.severity, code=code, line=lineno, match_start=m.start(),
                                          education=bool(education), instruction=_instruction(rule))
            if mdmap is None and education and kind != "frontmatter" and rule.category == "prompt-injection":
                # a scanner's pattern list or a write-up in plain text: the phrase is data here
                severity, why = cap(rule.severity, "low"), "pattern data in a security skill"
            if rule.id in WORDED and severity != "low" and (option_help(line, m.start()) or usage_line(line)):
                severity, why = cap(severity, "low"), "the help or usage text of a command-line option"
            if why is None and rule.id in ALLOWED:
                reason = allowance(Hit(rule.id, line, m, text, lineno, subject, kind))
                if reason is not None:
                    severity, why = cap(severity, "low"), reason
            if rule.id in SOURCE_RATED and why is None:
                severity, why = installer_rating(line, subject, severity, package=rule.id == "RCE-006")
            if rule.id in LOCAL_ONLY and not m.group().lstrip().lower().startswith(("env", "printenv")):
                if sends is None:
                    sends = _SENDS.search(text) is not None
                if not sends:
                    severity, why = cap(severity, "low"), "enumerated in a file that sends nothing over the network"
                elif _BY_NAME.search(line[m.end():] + following(text, lineno, line, len(line), 160)):
                    severity, why = cap(severity, "low"), "variables picked by name from the environment"
            message = rule.message if why is None else f"{rule.message} (rated {severity}, was {rule.severity}: {why})"
            out.append(Finding(rule_id=rule.id, category=rule.category, severity=severity, path=path,
                               line=lineno + offset, message=message, snippet=_snip(line),
                               remediation=rule.remediation))
        if mdmap is not None:
            out += self._prose(text, path, offset, mdmap, education, subject)
        if kind == "scripts":
            for hit in analyze_script(text, rel, lambda t: self._rule_hits(t, kind)):
                out.append(Finding(rule_id=hit.rule_id, category=hit.category, severity=hit.severity, path=path,
                                   line=hit.line + offset, message=hit.message, snippet=_snip(hit.snippet),
                                   remediation="Write the script plainly; a reviewer must be able to read what runs."))
        if "PRIVATE KEY" in text:
            for key in private_keys(text):
                out.append(Finding(rule_id=key.rule_id, category=key.category, severity=key.severity, path=path,
                                   line=key.line + offset, message=key.message, snippet=key.snippet,
                                   remediation="Delete the key, rotate it, and load keys from a secret store at run time."))  # noqa: E501
        if mdmap is not None:
            for at, excerpt in hidden_comments(text, first_line):
                out.append(Finding(
                    rule_id="INJ-COMMENT-001", category="prompt-injection", severity="high", path=path, line=at,
                    snippet=excerpt,
                    message="an HTML comment, invisible once rendered, gives instructions to the agent",
                    remediation="Remove the comment; instructions for the agent belong in visible text."))
        for d in decode_blobs(text):
            line_text = mdmap.line_text(d.line + offset) if mdmap else ""
            for f in self._rescan(d.text, "scripts", path, d.line + offset, f"{d.encoding}-decoded payload"):
                if mdmap is not None and line_text:
                    f.severity, why = rate(f.severity, mdmap=mdmap, line=f.line or 0, line_text=line_text,
                                           match_start=0, education=bool(education))
                    if why:
                        f.message += f" (rated {f.severity}: {why})"
                out.append(f)
        return out

    def _prose(self, text: str, path: str, offset: int, mdmap: MarkdownMap, education: str,
               subject: frozenset[str]) -> list[Finding]:
        """Fake prerequisites and plain-language instructions to the agent, rated in context."""
        out = []
        for step in fake_prerequisites(text, subject):
            # rated where its URL sits: a blockquote's ">" before it is no redirect to rate down
            severity, why = rate(step.severity, mdmap=mdmap, line=step.line + offset, line_text=step.text,
                                 match_start=max(step.text.find(step.url), 0), education=bool(education))
            out.append(Finding(rule_id="PREREQ-001", category="fake-prerequisite", severity=severity, path=path,
                               line=step.line + offset, snippet=_snip(step.text),
                               message=step.message + (f" (rated {severity}: {why})" if why else ""),
                               remediation="Install dependencies from a package manager or the vendor's own site, "
                                           "pinned; never from paste sites, shorteners, IPs or unrelated releases."))
        for hit in agent_instructions(text):
            severity, why = rate(hit.severity, mdmap=mdmap, line=hit.line + offset, line_text=hit.sentence,
                                 match_start=hit.start, education=bool(education))
            if why is None and hit.rule_id == "AGENT-HIDE-001" and describes(hit.sentence[:hit.start]):
                severity, why = cap(severity, "low"), "a third-person sentence describing what a product does"
            out.append(Finding(rule_id=hit.rule_id, category="agent-instruction", severity=severity, path=path,
                               line=hit.line + offset, snippet=_snip(hit.sentence[hit.start:]),
                               message=hit.message + (f" (rated {severity}: {why})" if why else ""),
                               remediation="Remove the instruction; a skill must not act behind the user's back."))
        return out

    def _rule_hits(self, text: str, kind: str) -> list[tuple[str, str, str, str]]:
        return [(rule.id, rule.category, rule.severity, rule.message)
                for part in text.split("\n") for rule, _m in self.rules.scan_line(part, kind)]

    def _rescan(self, text: str, kind: str, path: str, line: int, what: str) -> list[Finding]:
        out = []
        for part in text.split("\n"):
            for rule, _m in self.rules.scan_line(part, kind):
                out.append(Finding(rule_id=rule.id, category=rule.category, severity=rule.severity, path=path,
                                   line=line, message=f"in {what}: {rule.message}", snippet=_snip(part),
                                   remediation=rule.remediation))
        return out

    def _scan_file(self, f: SkillFile, education: str, run_texts: list[str], texts: dict[str, str],
                   subject: frozenset[str] = frozenset(), prefix: str | None = None) -> list[Finding]:
        path = self._display(f.path) if prefix is None or f.symlink_target is not None else prefix + f.rel
        out: list[Finding] = []
        if f.symlink_target is not None:
            out.append(_finding("FILE-LINK-001", "structure", "medium", path, 1,
                                f"symlink inside the skill points to {f.symlink_target!r}; it was not scanned",
                                "Replace the link with the file itself."))
            return out
        if f.special is not None:
            out.append(_finding("FILE-SPECIAL-001", "structure", "critical", path, 1,
                                f"{f.special} inside the skill (SK017): only regular files and folders are read; "
                                "anything that opens it hangs, so the skill cannot be reviewed, verified or loaded",
                                "Delete it; a skill ships regular files only."))
            return out
        if f.unreadable is not None:
            out.append(_finding("FILE-TREE-001", "structure", "critical", path, 1,
                                f"{f.unreadable}: the files below it were not scanned, so the skill cannot be "
                                "reviewed, verified or loaded",
                                "Flatten the folder; a skill is a few levels of regular files."))
            return out
        if f.too_large:
            out.append(_finding("FILE-SIZE-001", "structure", "medium", path, 1,
                                "file is too large to scan; its content cannot be reviewed",
                                "Keep skill files small; fetch large data at run time from a pinned source."))
            return out
        if f.native or (f.text is None and f.executable):
            runs = next((ln for t in run_texts if (ln := asks_to_run(t, f.rel))), None)
            severity = "high" if runs else "low"
            out.append(_finding("FILE-BIN-001", "binary", severity, path, 1,
                                "opaque binary or archive shipped with the skill"
                                + (" and the skill tells the agent to run it" if runs else ""),
                                "Ship source the reviewer can read, or install the tool from a pinned, "
                                "verified package."))
            return out
        if f.text is None:
            return out
        texts[path] = f.text
        mdmap = MarkdownMap(f.text) if f.markdown else None
        out += self._scan_text(f.text, f.kind, path, 1, mdmap, education, subject, f.rel)
        return out

    def _analyze_checks(self, skill: Skill, path: str, tier: str) -> list[Finding]:
        """Checks asking for more than the skill's tier may have (``policy.capability_problem``)."""
        out: list[Finding] = []
        for check in skill.checks:
            problem = capability_problem(check, tier)
            if problem is not None:
                out.append(_finding(CAPABILITY_RULE, "permissions", "high", path, check.line, problem,
                                    "Drop network=true or env= from the check, or have the repo vouch for the "
                                    "skill (trust: in skillctl.yaml, or skillctl approve)."))
        return out

    def _analyze_frontmatter(self, skill: Skill, path: str, names: NameIndex) -> list[Finding]:
        out: list[Finding] = []
        name = skill.frontmatter.name if isinstance(skill.frontmatter.name, str) else skill.name
        hit = names.lookalike(name)
        if hit is not None:
            target, how = hit
            severity = "medium" if how == "typo" else "high"
            message = (f"name {name!r} contains non-ASCII look-alike characters" if how == "non-ascii"
                       else f"name {name!r} looks like {target!r} ({how}); users may install it by mistake")
            out.append(_finding("NAME-LOOKALIKE-001", "impersonation", severity, path,
                                skill.key_lines.get("name", 2), message,
                                "Choose a distinct name, or vendor the original skill under its own name."))
        breadth = tool_breadth(skill.frontmatter.allowed_tools, skill.description)
        if breadth is not None:
            severity, message = breadth
            out.append(_finding("TOOLS-BREADTH-001", "permissions", severity, path,
                                skill.key_lines.get("allowed-tools", 2), message,
                                "Pre-approve only the specific commands the skill needs, e.g. Bash(git status:*)."))
        return out


def _instruction(rule: Any) -> bool:
    """Is *rule* about words to the agent? Those reach it from a comment too; a flag named there runs nothing."""
    return bool(rule.category == "prompt-injection" and rule.id != "INJ-008")


def _worded(severity: str, rule_id: str, mdmap: MarkdownMap, line: int, text: str,
            start: int, end: int) -> tuple[str, str | None]:
    """INJ-003/004/008 in prose: documentation of an option, or a description, is no order."""
    if mdmap.in_hidden_comment(line):
        return severity, None
    fence = mdmap.fence_at(line)
    if rule_id in NAMED_MODES and (fence is None or fence.lang in QUOTING_LANGS) and names_mode(text, start, end):
        return cap(severity, "low"), "names the approval mode or flag in documentation"
    if fence is not None:
        return severity, None
    if documents_option(text):
        return cap(severity, "low"), "a reference entry documenting an option"
    if rule_id in DESCRIBED and describes(text[:start]):
        return cap(severity, "low"), "a third-person sentence describing what a product does"
    return severity, None


def _lock_at(root: Path | None) -> Any:
    """The repo's lock, for the tiers it records; unreadable -> None (the loader fails closed anyway)."""
    if root is None or not (Path(root) / "skills.lock").is_file():
        return None
    from skillctl.errors import LockError
    from skillctl.lock import read_lock

    try:
        return read_lock(Path(root))
    except LockError:
        return None


@lru_cache(maxsize=8)
def _index(names: frozenset[str]) -> NameIndex:
    return NameIndex(names)


def _snip(line: str) -> str:
    line = line.strip()
    return line if len(line) <= SNIPPET else line[: SNIPPET - 1] + "…"


def _finding(rule_id: str, category: str, severity: str, path: str, line: int, message: str,
             remediation: str) -> Finding:
    return Finding(rule_id=rule_id, category=category, severity=severity, path=path, line=line,
                   message=message, remediation=remediation)


# -- library API ---------------------------------------------------------------------------------

def scan_skill(skill: Skill, *, config: Any = None, scanner: Scanner | None = None) -> list[Finding]:
    """Findings for one parsed skill; ``Finding.blocking`` follows the policy for its trust tier."""
    scanner = scanner or Scanner.from_config(config)
    return scanner.scan(skill)


@dataclass
class SkillResult:
    """One skill's scan: what it is, its tier, its findings, or why it could not be parsed."""

    folder: Path
    name: str
    tier: str
    findings: list[Finding]
    error: InputError | None = None

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]


def scan_tree(paths: Iterable[Path], *, config: Any = None, root: Path | None = None,
              extra_rules: Iterable[Path | str] = (), scanner: Scanner | None = None) -> list[SkillResult]:
    """Scan every skill under *paths* (each verdict the same as when scanned alone)."""
    from skillctl.parse import read_skill
    from skillctl.repo import discover_skills

    scanner = scanner or Scanner.from_config(config, root=root, extra_rules=extra_rules)
    folders: list[Path] = []
    for p in paths:
        folders.extend(discover_skills(Path(p)))
    parsed: list[tuple[Path, Skill | None, InputError | None]] = []
    for folder in dict.fromkeys(folders):
        try:
            parsed.append((folder, read_skill(folder, root=root), None))
        except InputError as exc:
            parsed.append((folder, None, exc))
    return scan_parsed(parsed, scanner)


def scan_parsed(parsed: Iterable[tuple[Path, Skill | None, InputError | None]], scanner: Scanner) -> list[SkillResult]:
    """Scan skills someone already parsed (``validate --scan`` parses once for both jobs).

    A folder that did not parse is still scanned, as plain text.
    """
    results = []
    for folder, skill, error in parsed:
        if skill is None:
            tier, findings = scanner.scan_unparsed_with_tier(folder)
            results.append(SkillResult(folder, folder.name, tier, findings, error))
        else:
            tier, findings = scanner.scan_with_tier(skill)
            results.append(SkillResult(folder, skill.name, tier, findings))
    return results


def scan_paths(paths: Iterable[Path], *, config: Any = None, root: Path | None = None,
               extra_rules: Iterable[Path | str] = ()) -> list[Finding]:
    """All findings under *paths*, flat (what ``validate --scan`` shows)."""
    return [f for r in scan_tree(paths, config=config, root=root, extra_rules=extra_rules) for f in r.findings]
