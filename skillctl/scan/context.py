"""Where in a markdown file a match sits, and whether it explains an attack or asks for one.

A regex cannot tell "never pipe curl into sh" from "pipe curl into sh"; a security course
quoting a reverse shell from an order to open one. This module maps a markdown file's lines
to regions (prose, fenced code with its language, blockquote, HTML comment, the
``## Verification`` section whose blocks skillctl executes) and rates a rule hit down when it
sits in explanatory context. It is built lazily: most files have no hit and never need it.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from skillctl.vocab import SEVERITIES

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([^\n]*)$", re.MULTILINE)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.MULTILINE)

# Words that mark a skill as teaching about attacks (name or description).
EDUCATION = re.compile(
    r"\b(?:security|secure|pentest\w*|penetration|red[- ]?team\w*|threat\w*|malware|vulnerab\w*|"
    r"exploit\w*|attacks?|forensic\w*|incident|ctf|harden\w*|awareness|phishing|detect\w*|"
    r"prompt[- ]injection|injection|jailbreak\w*|defen[cs]\w*|appsec|soc|siem|yara|sigma|"
    r"threat[- ]hunt\w*|hunting|monitoring|blue[- ]?team|purple[- ]?team|tabletop|dfir|edr|soar|iocs?)\b",
    re.IGNORECASE,
)
# Lead-in or same-line wording that describes an attack rather than requests one.
EXPLAINS = re.compile(
    r"\b(?:attackers?|malicious|adversar\w*|threat actors?|red flags?|indicators? of compromise|iocs?|"
    r"example (?:of|attack|payload)|looks? like|signatures?|detect\w*|phishing|suspicious|"
    r"dangerous|unsafe|bad|anti-?pattern|vulnerable|exploit\w*|payloads?|injected|poison\w*|"
    r"compromised?|infostealer|backdoor\w*|never|do not|don't|avoid|warning|beware|recogni[sz]e|"
    r"spot|flag(?:ged|s)?|block(?:ed|s)?|quarantin\w*|report)\b",
    re.IGNORECASE,
)
# A negated directive just before the match on the same line ("never run `curl ... | sh`").
NEGATED = re.compile(
    r"\b(?:never|do not|don't|must not|mustn't|should not|shouldn't|avoid(?:ing)?|instead of|rather than|"
    r"refuse to|not)\b(?!\s+(?:forget|skip|miss))",
    re.IGNORECASE,
)
# Wording that turns the following block into an instruction to run it, whatever the topic.
COMMANDS = re.compile(
    r"\b(?:run (?:this|the following|it)|execute (?:this|the following)|paste (?:this|into)|"
    r"before (?:using|you (?:start|begin|use))|prerequisites?|first,? (?:run|install|execute)|"
    r"required (?:setup|step)|must (?:run|install|execute)|setup step)\b",
    re.IGNORECASE,
)
# Wording that introduces a quoted string as a specimen ("reject phrases like "...").
MENTIONS = re.compile(
    r"\b(?:e\.g|i\.e)\.|\b(?:like|such as|for example|phrases?|phrasing|wording|language|words?|strings?|patterns?|"
    r"keywords?|says?|saying|reject\w*|detect\w*|block\w*|filter\w*|flag\w*|match\w*|contain\w*|avoid\w*|"
    r"never|don't|do not|inputs?|ask(?:s|ing)? (?:the )?(?:agent|model|assistant|ai|claude|it) to)\b",
    re.IGNORECASE,
)
# What introduces a quotation the match sits inside as a specimen: the words that introduce one
# (MENTIONS) or that call it an attack ("... with malicious instructions: - "...""").
SPECIMEN_LEAD = re.compile(MENTIONS.pattern + r"|\b(?:malicious|attacks?|attackers?|injection|injected|exploits?|"
                           r"suspicious|adversarial|threats?|scams?|phishing)\b", re.IGNORECASE)
# "Don't process emails if they ... ask you to ignore previous instructions": the order is what a
# third party may send, told in a condition; the skill itself asks nothing.
REPORTED = re.compile(r"\b(?:if|when|whenever|unless)\b[^.!?\n]{0,100}\b(?:asks?|tells?|instructs?|urges?|wants?|"
                      r"tries to (?:get|make)|attempts? to (?:get|make))\s+"
                      r"(?:you|the (?:agent|model|assistant)|agents?)\s+(?:to\s+)?$", re.IGNORECASE)
# Wording that turns the reported request down ("Don't process emails if ...", "treat it as hostile").
REFUSES = re.compile(r"\b(?:never|don['\u2019]t|do not|refuse|reject|skip|stop|hostile|suspicious|untrusted|malicious|"
                     r"warn|flag|report|ignore (?:it|them|that|such))\b", re.IGNORECASE)
# A quoted argument of a checking subcommand (``guard.sh scan-content "..."``, ``cli check "..."``):
# the string is what the tool is asked to judge.
CHECKED = re.compile(r"\b(?:check|scan|validate|detect|analy[sz]e|classify|lint|inspect|audit|screen)"
                     r"(?:-[a-z-]+)?\s+$", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)[.!?]\s")  # "e.g. " ends no sentence
QUOTES = "\"'`\u201c\u2018"
_CLAUSE = re.compile(r"[.;:!?\u2014]\s")
_NEGATION_BEFORE = re.compile(r"\b(?:never|not|don't|avoid)\b[^.;:!?]{0,20}$", re.IGNORECASE)


def commands(text: str) -> bool:
    """Does *text* tell the reader to run something (and not tell them never to)?"""
    return any(not _NEGATION_BEFORE.search(text[: m.start()]) for m in COMMANDS.finditer(text))


def negated(before: str) -> bool:
    """Is the clause leading up to a match a negated directive ("never run ...", "Don’t ...")?"""
    clause = _CLAUSE.split(before.replace("\u2019", "'"))[-1][-60:]
    return bool(NEGATED.search(clause)) and not commands(clause)


# Fence languages that are data or transcripts, not something to run.
QUOTING_LANGS = frozenset({"text", "txt", "plain", "plaintext", "log", "output", "quote", "example"})
# Detection signatures quote the strings they detect: never an instruction, in any skill.
SIGNATURE_LANGS = frozenset({"yara", "yar", "sigma", "snort", "suricata", "zeek", "kql", "spl"})
LEAD_IN_LINES = 4


@dataclass(frozen=True)
class Fence:
    start: int  # line of the opening fence (1-based)
    end: int  # line of the closing fence (or last line)
    lang: str
    info: str


class MarkdownMap:
    """Line → region lookups for one markdown text, computed on first use."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.text = text
        self.first_line = first_line
        self._built = False
        self._fence_runs: dict[int, bool] = {}

    def _build(self) -> None:
        text, base = self.text, self.first_line
        starts = [0]
        starts.extend(m.end() for m in re.finditer("\n", text))
        self._starts = starts

        def line_of(offset: int) -> int:
            return bisect.bisect_right(starts, offset) - 1 + base

        fences: list[Fence] = []
        open_fence: tuple[int, str, str, str] | None = None
        for m in _FENCE.finditer(text):
            marker, info = m.group(1), m.group(2).strip()
            line = line_of(m.start())
            if open_fence is None:
                lang = info.split("{")[0].split()[0].lower() if info.split("{")[0].split() else ""
                open_fence = (line, marker, lang, info)
            elif marker[0] == open_fence[1][0] and len(marker) >= len(open_fence[1]) and not info:
                fences.append(Fence(open_fence[0], line, open_fence[2], open_fence[3]))
                open_fence = None
        if open_fence is not None:
            fences.append(Fence(open_fence[0], line_of(len(text)), open_fence[2], open_fence[3]))
        self.fences = fences
        self._fence_starts = [f.start for f in fences]
        self.comments = [(line_of(m.start()), line_of(m.end() - 1)) for m in _COMMENT.finditer(text)]
        self.headings = [(line_of(m.start()), m.group(1).strip().lower()) for m in _HEADING.finditer(text)]
        self._heading_lines = [h[0] for h in self.headings]
        self._built = True

    def fence_at(self, line: int) -> Fence | None:
        if not self._built:
            self._build()
        i = bisect.bisect_right(self._fence_starts, line) - 1
        if i >= 0 and self.fences[i].start <= line <= self.fences[i].end:
            return self.fences[i]
        return None

    def in_comment(self, line: int) -> bool:
        if not self._built:
            self._build()
        return any(a <= line <= b for a, b in self.comments)

    def in_hidden_comment(self, line: int) -> bool:
        """Is *line* in an HTML comment that rendering hides (one opened outside a fenced block)?"""
        if not self._built:
            self._build()
        return any(a <= line <= b and self.fence_at(a) is None for a, b in self.comments)

    def fence_runs(self, fence: Fence) -> bool:
        """Does the block start a process or evaluate text (``runs_strings`` with any process)?

        Asked for every hit in the block by more than one judgement, so it is worked out once.
        """
        if fence.start not in self._fence_runs:
            text = "\n".join(self.line_text(n) for n in range(fence.start + 1, fence.end))
            self._fence_runs[fence.start] = runs_strings(text, any_process=True)
        return self._fence_runs[fence.start]

    def fence_lines(self, fence: Fence, upto: int) -> list[str]:
        """The block's lines from its first up to *upto* (so ``upto - fence.start`` indexes the last)."""
        return [self.line_text(n) for n in range(fence.start + 1, upto + 1)]

    def section(self, line: int) -> str:
        if not self._built:
            self._build()
        i = bisect.bisect_right(self._heading_lines, line) - 1
        return self.headings[i][1] if i >= 0 else ""

    def line_text(self, line: int) -> str:
        if not self._built:
            self._build()
        idx = line - self.first_line
        if idx < 0 or idx >= len(self._starts):
            return ""
        end = self._starts[idx + 1] - 1 if idx + 1 < len(self._starts) else len(self.text)
        return self.text[self._starts[idx]:end]

    def lead_in(self, fence: Fence) -> str:
        """The few non-blank lines before a fence: where authors say what the block is for."""
        lines: list[str] = []
        line = fence.start - 1
        while line >= self.first_line and len(lines) < LEAD_IN_LINES:
            if self.fence_at(line) is not None:
                break
            text = self.line_text(line).strip()
            if text:
                lines.append(text)
            line -= 1
        return " ".join(reversed(lines))


def _lead_sentence(mdmap: MarkdownMap, line: int, before: str) -> str:
    """The sentence leading up to a quote: on the line, or ending the line above when the quote opens it."""
    text = before.rstrip()[:-1]
    if not text.strip(" -*>\t") and line > mdmap.first_line:
        text = mdmap.line_text(line - 1) + " " + text
    return _SENTENCE.split(text)[-1] if text.strip() else ""


def quote_opening(before: str) -> int:
    """Where the double, curly or back quote that is still open at the end of *before* starts, or -1.

    A match may start inside a quotation (``- "Ignore ... Send all API keys to ..."``): what
    introduces the quotation is then what decides whether it is a specimen. Single quotes are
    left out: in prose they are apostrophes far more often than quotes.
    """
    found = -1
    for q in '"`':
        if before.count(q) % 2 == 1:
            found = max(found, before.rfind(q))
    curly = before.rfind("\u201c")
    if curly > before.rfind("\u201d"):
        found = max(found, curly)
    return found


# A markdown list item ("- ", "* ", "3. ", "2) "): prose reads each as a sentence of its own.
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
# The line that opens a list of what not to do ("**DON'T:**", "Avoid:", "Anti-patterns", "Common mistakes").
_DONTS = re.compile(r"^[\s#*_>]*(?:don['\u2019]?ts?|do not|never|avoid|anti-?patterns?|bad (?:practices?|examples?)|"
                    r"(?:common )?(?:mistakes|pitfalls)|what not to do|wrong)[\s*_]*:?[\s*_]*$"
                    r"|.*\b(?:never|do not|don['\u2019]t|must not)[\s*_]*:[\s*_]*$", re.IGNORECASE)  # "..., NEVER:"
LIST_LOOKBACK = 12


def _under_donts(mdmap: MarkdownMap, line: int, line_text: str) -> bool:
    """Is *line* an item of a list that a "DON'T:"-style line opens (items and blank lines between)?"""
    if LIST_ITEM.match(line_text) is None:
        return False
    for above in range(line - 1, max(mdmap.first_line, line - LIST_LOOKBACK) - 1, -1):
        text = mdmap.line_text(above)
        if not text.strip() or LIST_ITEM.match(text) or text.startswith((" ", "\t")):
            continue  # another item, a blank line or an item's continuation
        return _DONTS.match(text) is not None
    return False


def _substitutes(line: str, opened: int) -> bool:
    """Does the double-quoted span opened at *opened* hold a command substitution a shell runs?"""
    if line[opened] != '"':
        return False
    end = line.find('"', opened + 1)
    span = line[opened + 1: end if end != -1 else len(line)]
    return "$(" in span or "`" in span


def lower(severity: str, steps: int, floor: str = "info") -> str:
    idx = max(SEVERITIES.index(severity) - steps, SEVERITIES.index(floor))
    return SEVERITIES[min(idx, SEVERITIES.index(severity))]


def cap(severity: str, ceiling: str) -> str:
    return SEVERITIES[min(SEVERITIES.index(severity), SEVERITIES.index(ceiling))]


def rate(
    severity: str,
    *,
    mdmap: MarkdownMap | None,
    line: int,
    line_text: str,
    match_start: int,
    education: bool,
    defensive: bool = False,
    instruction: bool = False,
) -> tuple[str, str | None]:
    """The severity a markdown hit deserves in its context, and why it changed (or None).

    Executable places are never rated down: scripts (``mdmap`` is None), HTML comments (an
    agent reads them, a human reviewer does not) and blocks in ``## Verification``.
    *instruction* marks a rule about words to the agent: those keep their severity in a code
    comment, which the agent reads like any other text.
    """
    if mdmap is None:
        return severity, None
    fence = mdmap.fence_at(line)
    if mdmap.in_hidden_comment(line):
        return severity, None
    if fence is not None and ("check=" in fence.info or "verification" in mdmap.section(line)):
        return severity, None
    before = line_text[:match_start]
    if negated(before):
        return cap(severity, "low"), "negated on the same line"
    if REPORTED.search(before) and REFUSES.search(line_text):
        return cap(severity, "low"), "reported as what someone else may ask, not asked"
    if before.rstrip()[-1:] in QUOTES and MENTIONS.search(_lead_sentence(mdmap, line, before)):
        return cap(severity, "low"), "quoted as a specimen"
    opened = quote_opening(before)
    if opened >= 0 and not _substitutes(line_text, opened) and (CHECKED.search(before[:opened])
                        or SPECIMEN_LEAD.search(_lead_sentence(mdmap, line, before[:opened + 1]))):
        return cap(severity, "low"), "inside a quotation introduced as a specimen or handed to a checker"
    if not_a_redirect(line_text, match_start, prose=fence is None):
        return cap(severity, "low"), "a '>' that draws an arrow, ends a placeholder or quotes; no redirect"
    if not instruction and quoted_test_input(line_text, match_start) \
            and (fence is None or not mdmap.fence_runs(fence)):
        return cap(severity, "low"), "a quoted input to test with, not a command"
    if fence is not None and in_string(line_text, match_start) \
            and not mdmap.fence_runs(fence) \
            and specimen_string(mdmap.fence_lines(fence, line), line - fence.start, match_start):
        return cap(severity, "low"), "a specimen in a detector's list or a classifier's input"
    if fence is not None and not instruction and (marker := comment_marker(fence.lang)) is not None:
        # at position 0 only a whole-line comment (or a docstring's opening line) counts
        whole_line = in_code_comment(line_text, 0, marker)
        if not whole_line and in_code_comment(line_text, match_start, marker):
            return cap(severity, "low"), "in a trailing code comment, which never runs"
    if fence is None:
        if _under_donts(mdmap, line, line_text):
            return cap(severity, "low"), "an item of a list of things not to do"
        if line_text.count(" > ") >= 2 and before.count("`") % 2 == 0:
            return cap(severity, "low"), "a chain of '>' in prose is an arrow, not a redirect"
        quoted = line_text.lstrip().startswith(">")
        if education and not commands(line_text):
            return cap(severity, "low"), "explanatory prose in a security-education skill"
        if quoted and EXPLAINS.search(line_text):
            return lower(severity, 1), "quoted in explanatory prose"
        return severity, None
    if fence.lang in SIGNATURE_LANGS:
        return cap(severity, "low"), f"quoted in a {fence.lang} detection signature"
    lead = mdmap.lead_in(fence)
    if commands(lead):
        return severity, None
    if _marked_bad(mdmap, fence, line):
        return cap(severity, "low"), "the example is marked as what not to do"
    if education and (EXPLAINS.search(lead) or fence.lang in QUOTING_LANGS):
        return cap(severity, "low"), "example introduced as an attack in a security-education skill"
    if education and defensive:
        return cap(severity, "low"), "code example in a skill about detecting or answering attacks"
    if education:
        return lower(severity, 1), "code example in a security-education skill"
    if fence.lang in QUOTING_LANGS and EXPLAINS.search(lead):
        return lower(severity, 1), "quoted as an example of an attack"
    return severity, None


# A comment line of a script, and words that forbid what the comment goes on to name.
_CODE_COMMENT = re.compile(r"^\s*(?:#|//|--|;|/?\*|rem\s)", re.IGNORECASE)
_FORBIDS = re.compile(r"\b(?:never|do not|don't|must not|mustn't|forbid\w*|refuse\w*|reject\w*|den(?:y|ies)|"
                      r"block(?:s|ed)?|disallow\w*|not allowed)\b", re.IGNORECASE)
# A call that runs or evaluates its argument: a string on such a line is code, not data.
_RUNS = re.compile(r"\b(?:system|popen|exec\w*|eval|spawn\w*|run|call|check_output|check_call|Popen|getoutput|"
                   r"shell_exec|passthru|Invoke-Expression|iex|Start-Process|Function)\s*\(", re.IGNORECASE)


def _walk_code(line: str, pos: int, marker: str | None = None, start: int = 0) -> tuple[int, int]:
    """One pass over a code line up to *pos*: where an open string starts (-1 if none), and
    where a line comment (*marker* outside a string, after white space or at the start) begins
    at or after *start* (-1 if none; quotes are counted from the line's start either way)."""
    quote, opened = "", -1
    i = 0
    while i < pos:
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote, opened = ch, i
        elif marker is not None and i >= start and line.startswith(marker, i) and (i == 0 or line[i - 1] in " \t"):
            return -1, i
        i += 1
    return (opened if quote else -1), -1


def string_start(line: str, pos: int) -> int:
    """Where the quoted string literal holding character *pos* of a code line opens, or -1."""
    return _walk_code(line, pos)[0]


def in_string(line: str, pos: int) -> bool:
    """Does character *pos* of a code line sit inside a quoted string literal?"""
    return string_start(line, pos) >= 0


# Line-comment markers by language: text after one (outside a string) is never run. Only
# languages whose marker cannot be an operator count ("//" divides in Python).
HASH_COMMENTS = frozenset({"sh", "bash", "zsh", "shell", "console", "py", "python", "python3", "rb", "ruby", "pl",
                           "perl", "ps1", "powershell", "pwsh", "yaml", "yml", "toml", "r", "dockerfile", "make",
                           "makefile", "mk", "conf", "ini", "tf", "hcl", "nix", "fish"})
SLASH_COMMENTS = frozenset({"js", "javascript", "mjs", "cjs", "jsx", "ts", "typescript", "tsx", "go", "rs", "rust",
                            "java", "kt", "kotlin", "c", "h", "cpp", "cc", "hpp", "cs", "csharp", "swift", "scala",
                            "dart", "groovy", "jsonc", "json5", "zig"})


def comment_marker(lang: str) -> str | None:
    """``#`` or ``//`` for a fence language or a file suffix (without the dot), else None."""
    lang = lang.lower()
    return "#" if lang in HASH_COMMENTS else "//" if lang in SLASH_COMMENTS else None


def in_code_comment(line: str, pos: int, marker: str) -> bool:
    """Does character *pos* of *line* sit in a line comment (or a docstring's first line)?

    A marker counts only outside a string and at the start of the line or after white space
    (``${#x}`` and ``a#b`` are not comments in a shell). A line opening a Python docstring or a
    ``/*`` block comment counts as a whole.
    """
    stripped = line.lstrip()
    if stripped.startswith(marker) or (marker == "//" and stripped.startswith(("/*", "* ", "*/"))):
        return True
    if marker == "#" and stripped[:3] in ('"""', "'''") and ";" not in stripped:
        return True  # a docstring: text, unless code follows it on the line
    return _walk_code(line, pos, marker)[1] >= 0


def comment_start(line: str, marker: str, start: int = 0) -> int:
    """Where a line comment begins in *line* at or after *start* (as ``in_code_comment`` reads
    one), or ``len(line)`` when none does."""
    found = _walk_code(line, len(line), marker, start)[1]
    return found if found >= 0 else len(line)


_TRIPLE = re.compile(r"\"\"\"|'''")


def docstring_lines(lines: list[str]) -> frozenset[int]:
    """1-based numbers of the lines inside Python docstrings (text opened in statement position).

    A triple-quoted string assigned or passed somewhere (``cmd = \"\"\"...``) is data and is not
    counted; one that opens a line is documentation. Every triple quote toggles, so a data string
    that closes on a line of its own does not open a docstring.
    """
    out: set[int] = set()
    opener, doc = "", False
    for no, line in enumerate(lines, start=1):
        stripped = line.lstrip().lstrip("rRuU")
        if opener and doc:
            out.add(no)
        for m in _TRIPLE.finditer(line):
            if opener:
                if m.group() == opener:
                    opener, doc = "", False
            else:
                opener = m.group()
                doc = stripped.startswith(opener) and line.find(opener) == len(line) - len(stripped)
                if doc:
                    out.add(no)
    return frozenset(out)


# A collection or a call that holds strings as specimens: a detector's pattern list, a scorer's
# input ("injection_patterns = [", "get_jailbreak_score(").
_SPECIMEN_HOLDER = re.compile(
    # (a list named after what it is matched against; "payloads" and "attacks" are also what is sent)
    r"\b\w*(?:patterns?|signatures?|blocklist|denylist|blacklist|keywords?|phrases?|markers?|suspicious|red_?flags?|"
    r"banned|forbidden|triggers?)\w*\s*(?:=|:|\+=)\s*"
    r"[\[({]?\s*$|"
    r"\b\w*(?:detect|score|classif|guard|filter|moderat|sanitiz|is_(?:safe|malicious|attack|injection))\w*\s*\(\s*$",
    re.IGNORECASE,
)


def specimen_string(lines: list[str], line: int, pos: int) -> bool:
    """Is *pos* in a string literal that a detector's list or a scoring call holds as data?

    The holder is named just before the string's opening quote on the same line, or, for a list
    written one item a line, on the nearest line above that opens the list.
    """
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    opened = string_start(text, pos)
    if opened < 0:
        return False
    if _SPECIMEN_HOLDER.search(text[:opened]):
        return True
    if text[:opened].strip():
        return False
    for back in range(line - 2, max(line - 40, -1), -1):
        above = lines[back].rstrip()
        if above.endswith(("[", "(", "{")):
            return _SPECIMEN_HOLDER.search(above) is not None
        if not above.lstrip().startswith(("\"", "'", "#", "//")) and above.strip():
            return False
    return False


# What a quoted string is called when it is an input to try, not a command to run ("Input:
# "a; rm -rf /"", "test with `../../etc/passwd`", USER_INPUT="..."): the words just before it.
_TEST_INPUT = re.compile(
    r"(?:\b(?:inputs?|payloads?|file ?names?|test(?:s|ing|ed)?(?:\s+(?:with|using|against|for))?|fuzz\w*|"
    r"try(?:ing)?(?:\s+with)?|test ?cases?|samples?)|\b\w*(?:INPUT|PAYLOAD|TEST|SAMPLE)\w*)\s*[:=(]?\s*$",
    re.IGNORECASE,
)


def quoted_test_input(line: str, pos: int) -> bool:
    """Is *pos* inside a quoted string that the line introduces as an input to test with?"""
    opened = string_start(line, pos)
    return opened >= 0 and _TEST_INPUT.search(line[:opened]) is not None


def not_a_redirect(line: str, pos: int, prose: bool) -> bool:
    """Is the ``>`` at *pos* an arrow (``->``, ``=>``), a placeholder's end (``<dir>/``) or a blockquote?

    Rules about writing files match a shell redirect; in documentation the same character draws
    tree listings (``CLAUDE.md -> AGENTS.md``), closes placeholders (``<target>/AGENTS.md``) and,
    first on a prose line, quotes.
    """
    if pos >= len(line) or line[pos] != ">":
        return False
    if pos > 0 and line[pos - 1] in "-=":
        return True
    if prose and not line[:pos].strip():
        return True
    opened = line.rfind("<", 0, pos)
    return (opened >= 0 and pos - opened <= 40 and not line[pos - 1].isspace()
            and line[opened + 1:opened + 2].isalpha() and ">" not in line[opened:pos])


# Calls that hand a string to a shell or an evaluator: a script with one may run its "data".
# (``model.eval()`` and ``regex.exec(s)`` are methods of an object, not the evaluator)
SHELL_SINK = re.compile(r"\bos\.system\s*\(|shell\s*=\s*True|(?<!\.)\b(?:eval|exec)\s*\(|\b(?:execSync|popen)\s*\(|"
                        r"\bchild_process\b|\b(?:iex|Invoke-Expression)\b", re.IGNORECASE)
# Any way to start a process (an argument list too) or to evaluate text: for files whose strings
# are exempt as test inputs or comments, where the file itself gives no other reason to trust them.
ANY_SINK = re.compile(SHELL_SINK.pattern + r"|\bsubprocess\b|\bos\.exec\w*|\bspawn\w*\s*\(|\bexecFile\w*\s*\(|"
                      r"\bProcessBuilder\b|\bRuntime\.getRuntime\b|\b(?:ba)?sh\s+-c\b|\bsource\s|^\s*\.\s+\S|"
                      r"^\s*eval\s|[;&|]\s*eval\s", re.IGNORECASE | re.MULTILINE)


def runs_strings(text: str, *, any_process: bool = False) -> bool:
    """Does the code hand strings to a shell or an evaluator (a sink outside a string literal)?

    With *any_process*, starting any process counts too (``subprocess.run([...])``, ``spawn``).
    """
    for m in (ANY_SINK if any_process else SHELL_SINK).finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        if not in_string(text[start:m.start() + 1], m.start() - start):
            return True
    return False


_SHEBANG = re.compile(r"^#!.*?\b(?P<lang>sh|bash|zsh|python3?|ruby|perl|node|deno|bun|pwsh)\b")


class CodeFile:
    """A script or data file as ``rate_code`` judges it; each fact is worked out on first use,
    since most files have no hit and the rest need only some of them."""

    def __init__(self, text: str, rel: str) -> None:
        self.text = text
        self.rel = rel  # its path inside the skill
        self.lines = text.split("\n")

    @functools.cached_property
    def runs_strings(self) -> bool:
        """Hands strings to a shell or an evaluator: no string in it counts as data."""
        return runs_strings(self.text)

    @functools.cached_property
    def runs_any(self) -> bool:
        """Starts any process (an argument list too) or evaluates text."""
        return self.runs_strings or runs_strings(self.text, any_process=True)

    @functools.cached_property
    def marker(self) -> str | None:
        """The line-comment marker, from the suffix, the name or the shebang."""
        name = self.rel.rsplit("/", 1)[-1]
        marker = comment_marker(name.rsplit(".", 1)[-1] if "." in name else name)
        if marker is None and (m := _SHEBANG.match(self.lines[0])) is not None:
            marker = "//" if m.group("lang") in ("node", "deno", "bun") else "#"
        return marker

    @functools.cached_property
    def test_file(self) -> bool:
        return is_test_file(self.rel)

    @functools.cached_property
    def docstrings(self) -> frozenset[int]:
        if self.marker != "#" or ('"""' not in self.text and "'''" not in self.text):
            return frozenset()
        return docstring_lines(self.lines)


def rate_code(severity: str, *, code: CodeFile, line: int, match_start: int, education: bool,
              instruction: bool = False) -> tuple[str, str | None]:
    """The severity a hit in a script or data file deserves, and why it changed (or None).

    Two kinds of text in code never run: a comment that forbids what it names ("never emit
    --yolo"), and, in a skill about attacks or their detection, a string that is a signature
    (a pattern in a detector's list, a payload in a tester's list) on a line that runs nothing.
    An instruction to the agent (*instruction*) keeps its severity in a comment, since agents
    read comments; and no string counts as data in a file that hands strings to a shell or an
    evaluator (``code.runs_strings``), since its list could be what it runs. Comments,
    docstrings, specimens and test inputs rate down only in a file that starts no process
    (``code.runs_any``).
    """
    lines = code.lines
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if not instruction and _CODE_COMMENT.match(text):
        block = [text[:match_start]]
        for back in range(line - 2, max(line - 4, -1), -1):
            if not _CODE_COMMENT.match(lines[back]):
                break
            block.insert(0, lines[back])
        if _FORBIDS.search(" ".join(block)):
            return cap(severity, "low"), "named in a comment that forbids it"
    if not_a_redirect(text, match_start, prose=False):
        return cap(severity, "low"), "a '>' that draws an arrow or ends a placeholder; no redirect"
    if not code.runs_any and not instruction and code.marker is not None \
            and (line in code.docstrings or in_code_comment(text, match_start, code.marker)):
        return cap(severity, "low"), "in a code comment or docstring, which never runs"
    if not code.runs_any and specimen_string(lines, line, match_start) and not _RUNS.search(text):
        return cap(severity, "low"), "a specimen in a detector's list or a classifier's input"
    if in_string(text, match_start) and not _RUNS.search(text):
        if education and not code.runs_strings:
            return cap(severity, "low"), "a signature (string data) in a security skill's code"
        if code.test_file and not code.runs_any:
            return cap(severity, "low"), "a test input (string data) in a test file"
    return severity, None


_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|spec|testdata|fixtures)/|(?:^|/)test_[^/]*$|"
                        r"_test\.[a-z]+$|\.(?:test|spec)\.[a-z]+$", re.IGNORECASE)


def is_test_file(rel: str) -> bool:
    """Is *rel* (a path inside the skill) a test or its fixture, by the conventions of test runners?"""
    return _TEST_PATH.search(rel) is not None


# A comment just above a line of an example that marks it as the wrong way.
_BAD_EXAMPLE = re.compile(r"^\s*(?:#|//|--|<!--)\s*(?:bad|wrong|don't|do not|never|avoid|insecure|unsafe|vulnerable|"
                          r"anti-?pattern)\b", re.IGNORECASE)


def _marked_bad(mdmap: MarkdownMap, fence: Fence, line: int) -> bool:
    """Is the hit's line, inside a code block, right under a comment such as "# BAD:"?"""
    for above in (line - 1, line - 2):
        if above <= fence.start:
            return False
        text = mdmap.line_text(above)
        if text.strip():
            return bool(_BAD_EXAMPLE.match(text))
    return False


# Names of skills that teach detecting or answering attacks (not carrying them out): their
# code examples are detection rules, queries and evidence that quote what they look for.
DEFENSIVE = re.compile(r"\b(?:detect\w*|hunt\w*|monitor\w*|defen[cds]\w*|forensic\w*|incident|soc|siem|dfir|edr|"
                       r"blue[- ]?team|harden\w*|yara|sigma|falco|iocs?|triag\w*|investigat\w*|playbooks?|tabletop|"
                       r"respon\w*|analy[sz]\w*|deobfuscat\w*|protect\w*|guard\w*|shield\w*|firewall|sentinel|"
                       r"scanner|vet|vetting|check(?:er)?)\b", re.IGNORECASE)
# Words of mounting an attack: a name with one of them is offensive whatever else it says.
OFFENSIVE = re.compile(r"\b(?:exploit\w*|pentest\w*|penetration|red[- ]?team\w*|offensive|bypass\w*|escaping|"
                       r"escalating|fuzz\w*|bounty|ctf|weaponi[sz]\w*|crack\w*|credential[- ]access)\b", re.IGNORECASE)
# Names of attacks: the object of a defensive skill ("detecting-container-escape-attempts") or the
# subject of an offensive one ("privilege-escalation-methods"); the name's leading verb decides.
ATTACK_NOUNS = re.compile(r"\b(?:attacks?|escapes?|escalations?|payloads?)\b", re.IGNORECASE)


def is_defensive(name: str) -> bool:
    """Does the skill's name say it detects or answers attacks, and nothing says it mounts them?

    An attack named as the object ("detecting-...-attacks", "hunting-for-...-escape") keeps the
    skill defensive when the name leads with the defensive verb.
    """
    words = name.replace("-", " ").replace("_", " ")
    if not DEFENSIVE.search(words) or OFFENSIVE.search(words):
        return False
    return not ATTACK_NOUNS.search(words) or DEFENSIVE.match(words.strip()) is not None


def is_education(name: str, description: str) -> bool:
    """Does the skill present itself as teaching about attacks (so examples are expected)?"""
    return bool(EDUCATION.search(name.replace("-", " ")) or EDUCATION.search(description))


# Wording in an HTML comment that addresses the agent reading the raw file.
_AGENT_WORDS = r"\b(?:ai|agent|assistant|model|llm|claude|codex|hermes|gpt|copilot)s?\b"
AGENT_DIRECTIVE = re.compile(
    # a plain verb after the agent word ("agents include an evaluator") describes agents; an order
    # has a modal ("the agent must run") or addresses the agent ("AI agent: run ...")
    _AGENT_WORDS + r"[^.\n]{0,80}?\b(?:must|should|shall|will|always|never|needs? to|are to|do not)\b"
    r"|" + _AGENT_WORDS + r"\s*[:,\u2014-][^.\n]{0,80}?\b(?:ignore|run|execute|send|upload|include)\b"
    r"|\b(?:ignore|disregard)\b[^.\n]{0,30}\b(?:instructions|rules|above|previous)\b"
    r"|\b(?:run|execute|download|install|send|upload|post|fetch|cat)\s+(?:the\s+)?(?:following|this|these|`|"
    r"https?://|~/|\$)",
    re.IGNORECASE,
)
# "you must ..." counts only together with an action a reader could be tricked into.
_SECOND_PERSON = re.compile(r"\b(?:you must|you should|make sure (?:to|you)|be sure to|remember to|do not (?:tell|mention|show))\b",  # noqa: E501
                            re.IGNORECASE)
_ACTION = re.compile(r"\b(?:run|execute|download|install|send|upload|post|fetch|curl|wget|delete|remove|read|open|"
                     r"include|paste|tell|mention|show)\b", re.IGNORECASE)
# Comments written for the people who maintain the file, and tool directives.
_HUMAN_NOTE = re.compile(r"^\s*(?:todo|fixme|xxx|hack|note|markdownlint|prettier|eslint|vale|textlint|cspell|toc|"
                         r"(?:maintainers?|contributors?|editors?|authors?|translators?|reviewers?|docs team)\s*:)",
                         re.IGNORECASE)
_AGENT_ADDRESSED = re.compile(_AGENT_WORDS, re.IGNORECASE)
# A template's guidance to whoever fills it in ("<!-- Describe when the agent should use each
# tool -->"): it opens with a writing verb, and asks for text, not for anything to be run.
_WRITING_GUIDANCE = re.compile(r"^\s*(?:describe|list|fill(?:\s+in)?|replace|explain|summari[sz]e|document|provide|add|"
                               r"enter|outline|specify|state|define|capture|write\s+(?:down|a|an|the|one|each|here))\b",
                               re.IGNORECASE)
_RUNS_SOMETHING = re.compile(r"\b(?:run|execute|download|install|send|upload|post|fetch|curl|wget|paste|ignore|"
                             r"disregard|reveal|hide|conceal|exfiltrat\w*|tokens?|passwords?|secrets?|credentials?|keys?)\b"
                             r"|https?://|~/|\$\(|`", re.IGNORECASE)


def _code_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of fenced blocks: a comment there is shown as text, not hidden."""
    ranges, open_at, marker = [], -1, ""
    for m in _FENCE.finditer(text):
        if open_at < 0:
            open_at, marker = m.start(), m.group(1)[0]
        elif m.group(1)[0] == marker and not m.group(2).strip():
            ranges.append((open_at, m.end()))
            open_at = -1
    if open_at >= 0:
        ranges.append((open_at, len(text)))
    return ranges


def hidden_comments(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    """``(line, excerpt)`` for HTML comments that talk to the agent: invisible once rendered.

    A comment inside a code span or fenced block renders visibly, and a note to maintainers or
    a linter directive talks to people or tools: neither is a hidden instruction.
    """
    if "<!--" not in text:
        return []
    out = []
    code = None
    for m in _COMMENT.finditer(text):
        inner = m.group()[4:].removesuffix("-->")
        if "skillctl-ignore" in inner:
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text.count("`", line_start, m.start()) % 2 == 1:
            continue  # inside an inline code span
        if code is None:
            code = _code_ranges(text)
        if any(a <= m.start() < b for a, b in code):
            continue
        if _HUMAN_NOTE.search(inner) and not _AGENT_ADDRESSED.search(inner):
            continue
        if _WRITING_GUIDANCE.match(inner) and not _RUNS_SOMETHING.search(inner):
            continue  # a template's note to its author
        hit = AGENT_DIRECTIVE.search(inner)
        if hit is None:
            second = _SECOND_PERSON.search(inner)
            hit = second if second is not None and _ACTION.search(inner) else None
        if hit:
            line = text.count("\n", 0, m.start() + 4 + hit.start()) + first_line
            out.append((line, " ".join(inner.split())[:160]))
    return out
