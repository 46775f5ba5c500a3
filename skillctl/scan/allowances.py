"""Allowances: where a rule's match, read in its surroundings, is not what the rule looks for.

A line regex sees ``curl ... | python3`` and cannot tell a download run as code from JSON handed
to an inline parser; it sees ``webhook.site`` and cannot tell a capture address from a tutorial
naming the service. Each allowance here answers that question for one rule (or a few) and, when
the answer is "not the attack", rates the finding low with the reason shown to the reviewer.
Allowances only lower: a hit they do not recognise keeps its severity, and each has dev
counter-cases (``tests/security/labelled``) of the shapes an attacker would use to borrow it.
``context.rate`` and ``rate_code`` judge where a hit sits (prose, comment, quotation); these
judge what it says.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from skillctl.scan.context import comment_start
from skillctl.scan.hosts import joined_name, source_kind

__all__ = ["ALLOWED", "Hit", "allowance", "capture_address", "feeds_inline_program", "following",
           "installs_itself_once", "loads_env_file", "schedules_local_job", "shell_hook_of"]


# ``curl URL | python3 -c "<program>"``: the program is the argument; the download is its stdin.
_INLINE_PROGRAM = re.compile(r"^\s+(?:-[a-zA-Z]+\s+)*?-[ceE]\s+(?P<q>[\"'])")
_EVALUATES = re.compile(r"\b(?:exec\w*|eval|compile|system|popen|spawn\w*|Function|__import__|import_module|getattr|"
                        r"globals|__builtins__|builtins|runIn\w*Context)\b|"
                        r"\b(?:subprocess|child_process|runpy|pickle|marshal|ctypes|yaml|vm|shelve|dill)\b")
_INTERPRETERS = ("python", "python2", "python3", "node", "perl", "ruby", "php")
_SCRIPT_FILE = re.compile(r"^\s+(?:-[a-zA-Z]\w*\s+)*[\w.~/$-]*\.(?:py|js|mjs|cjs|ts|rb|pl|php)\b")


def feeds_inline_program(match: str, after: str) -> bool:
    """Is a download piped into an interpreter whose program is given inline (``-c``/``-e``)?

    The program is then the quoted argument, which the reader sees, and the download only its
    input: ``curl api | python3 -c "import json,sys; print(json.load(sys.stdin)['x'])"`` parses
    JSON. It still counts as running the download when the inline program evaluates, imports,
    unpickles or shells out (``exec(sys.stdin.read())``), or when it is not closed within
    *after* (the text following the match: the rest of the line and the lines after it).
    """
    if not match.lower().rstrip().endswith(_INTERPRETERS):
        return False
    if _SCRIPT_FILE.match(after):
        return True  # ``| node scripts/chart.mjs``: the program is a file the skill ships
    m = _INLINE_PROGRAM.match(after)
    if m is None:
        return False
    quote, end = m.group("q"), m.end()
    while (end := after.find(quote, end)) != -1 and quote == '"' and _escaped(after, end):
        end += 1  # a shell's "...\"..." goes on past an escaped quote
    return end != -1 and _EVALUATES.search(after[m.end():end]) is None


def _escaped(text: str, pos: int) -> bool:
    """Is the character at *pos* preceded by an odd number of backslashes?"""
    run = len(text[:pos]) - len(text[:pos].rstrip("\\"))
    return run % 2 == 1


# A scheduled job (cron line, systemd unit, launchd agent) and the signs of one that fetches,
# connects out or decodes what it runs.
_SCHEDULES = re.compile(r"crontab\s+-|/etc/cron|systemd/(?:system|user)/|Library/Launch(?:Agents|Daemons)/",
                        re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>", re.IGNORECASE)  # a plist's DTD address is never fetched to run
_HEREDOC = re.compile(r"<<-?\s*['\"]?(?P<tag>[A-Za-z_]\w*)['\"]?")
_REMOTE_JOB = re.compile(r"\b(?:curl|wget|nc|ncat|socat|telnet|scp|rsync|ssh|base64|iex|Invoke-\w+|eval)\b|https?://|"
                         r"/dev/(?:tcp|udp)/|\b(?:ba|z)?sh\s+-c\b|\bpython[23]?\s+-c\b|\bnode\s+-e\b|\$\(",
                         re.IGNORECASE)


def schedules_local_job(line: str, after: str) -> bool:
    """Does a PERSIST-003 hit schedule a job that runs only a local command, shown in full?

    A reminder in cron or a backup timer under systemd is what such skills are for; persistence
    is the attack when the job fetches or connects out (PERSIST-001 and RCE-001 rate those
    higher). The job is the line itself, or the here-document it writes (``cat > x.service
    << 'EOF'`` ... ``EOF``), read from *after* (the lines that follow). authorized_keys and
    git hooks are not jobs and keep their severity.
    """
    if _SCHEDULES.search(line) is None:
        return False
    job = line
    if (doc := _HEREDOC.search(line)) is not None:
        body, sep, _rest = after.partition("\n" + doc.group("tag"))
        if not sep:
            return False  # an unterminated document: its end, and so the job, is not known
        job += body
    return _REMOTE_JOB.search(_DOCTYPE.sub("", job)) is None


# A dotenv loader, or a shell sourcing an env file: the file's variables go into the program's
# own environment (``require('dotenv').config({path: '../../.env'})``, ``source ../../.env``).
_DOTENV = re.compile(r"\b(?:dotenv|load_dotenv|godotenv|dotenvy|DotNetEnv)\b")
_SOURCES_ENV = re.compile(r"^\s*(?:source|\.)\s+[^;&|<>]*\.env\b[\"']?\s*(?:$|[;&|#])")


def loads_env_file(match: str, line: str, text: str) -> bool:
    """Does a ``../../.env`` climb load the workspace's env file into the skill's own environment?

    Skills installed in an agent's workspace (``workspace/skills/<name>``) read their API keys
    from the workspace's ``.env``, two or three levels up. Loading it is configuration; sending
    it anywhere is judged by the exfiltration rules, which this does not touch. Only a ``.env``
    target qualifies: a climb to ``.ssh`` or ``.aws`` keeps its severity.
    """
    if not match.rstrip("'\"").endswith(".env"):
        return False
    return _SOURCES_ENV.search(line) is not None or _DOTENV.search(text) is not None


# ``scheme://user:secret@host``: credentials written where HTTP basic auth reads them (a proxy, a git
# remote). Not as a markdown link or image target, which a client would fetch with whatever it holds.
_USERINFO = re.compile(r"(?<!\]\()(?<!src=[\"'])\b[a-z][a-z0-9+.-]*://[^\s/@:'\"`]+:[^\s/@'\"`]+@[\w.-]+\.[a-z]{2,}",
                       re.IGNORECASE)
# Claude Code's hook input and transcripts record the session's mode under this key; settings
# files set it under ``defaultMode``, which keeps its severity.
_RECORDED_MODE = re.compile(r"[\"']permission_mode[\"']\s*:\s*[\"']bypassPermissions[\"']")
# A file-drop upload of a picture, video or document the user works on (to get a public link):
# the form field names a media file or a variable that holds one.
_MEDIA_UPLOAD = re.compile(r"(?:fileToUpload|file)=@[\"']?(?:[^\s\"'@]*\."
                           r"(?:png|jpe?g|gif|webp|svg|mp4|mov|webm|mp3|wav|m4a|pdf)\b"
                           r"|\$\{?(?:image|img|photo|picture|video|audio|media|slide|logo|screenshot)\w*)",
                           re.IGNORECASE)
# A file that names a secret's place keeps its upload's severity, whatever the variable is called.
_SECRET_PATH = re.compile(r"\.ssh\b|\.aws\b|\.env\b|\.netrc|\.npmrc|\.kube|id_rsa|id_ed25519|credentials|keychain|"
                          r"\.gnupg|wallet|seed", re.IGNORECASE)
_PLACEHOLDER_PATH = re.compile(r"(?:your\w*|[x-]{6,}|example\w*|sample\w*|test\w*|abc\d*|id|token|uuid|unique\w*)"
                               r"(?:[-_]\w+)*|.*[<{*$].*|\.\.\..*", re.IGNORECASE)


def capture_address(line: str, start: int, end: int) -> bool:
    """Does a request-capture host on *line* carry an address of its own (where data would land)?

    A capture URL holds a token: in the path (``webhook.site/3f1c...``) or as a subdomain
    (``x8923.dnslog.cn``). The bare service name is what scanners list, threat write-ups cite and
    webhook tutorials point to ("test with webhook.site", ``https://webhook.site/your-id``).
    """
    if start > 1 and line[start - 1] == "." and (line[start - 2].isalnum() or line[start - 2] in "-_"):
        return True
    rest = line[end:end + 80]
    if not rest.startswith("/"):
        return False
    segment = re.match(r"/+([^\s/?#\"'`)]*)", rest)
    token = segment.group(1) if segment else ""
    return len(token) >= 6 and _PLACEHOLDER_PATH.fullmatch(token) is None


_OWN_SKILL_FILE = re.compile(r"\b(?:curl|wget|irm|iwr)\b[^\n>]*?(?P<url>https?://[^\s'\"`)>]+)[^\n>]*>\s*['\"]?"
                             r"[\w~./$-]*skills/(?P<name>[\w.-]+)/SKILL\.md\b", re.IGNORECASE)
# Wording that keeps the agent coming back for a new copy: a remote server then steers it for good.
_REFETCH = re.compile(r"heartbeat|re-?fetch|re-?download|check (?:for|back for) updates|auto-?updat|"
                      r"(?:every|each)\s+\d+\s*(?:-\s*\d+\s*)?(?:min\w*|hours?|h|days?)\b|periodically", re.IGNORECASE)


def installs_itself_once(line: str, text: str, subject: frozenset[str]) -> bool:
    """Does a PERSIST-004 hit download the skill's own SKILL.md, once, from the skill's own host?

    ``curl https://vendor.example/skill.md > ~/.openclaw/skills/vendor/SKILL.md`` is how hub
    skills tell you to install them. It stays a finding (high) when the skill also asks for the
    file to be fetched again (a heartbeat, "check for updates", "every 4 hours"): then whoever
    runs the server rewrites the agent's instructions whenever they like.
    """
    m = _OWN_SKILL_FILE.search(line)
    if m is None or _REFETCH.search(text):
        return False
    return joined_name(m.group("name")) in subject and source_kind(m.group("url"), subject) == "related" \
        and m.group("url").lower().startswith("https://")


# "Developer Mode enabled" is word for word a jailbreak phrase and a setting of phones, watches
# and Windows; next to a device or an OS it is the setting (the other jailbreak phrasings of
# INJ-002 still match on the same line).
_DEVICE_SETTING = re.compile(r"\b(?:devices?|iphone|ipad|watch|android|windows|xcode|macos|ios|visionos|tvos|"
                             r"machine|phone|tablet|computer|pc|settings|sideload\w*|winappdriver|appium)\b",
                             re.IGNORECASE)


# ``eval "$(mise activate bash)"`` appended to a shell start-up file: the tool's own documented
# activation. Only a line that runs nothing else (no fetcher, decoder, pipe or second command) qualifies.
_SHELL_HOOK = re.compile(r"""\beval\s+["']?(\$\(\s*([\w.-]+)\s+[\w\s=.-]*\))["']?""")
_FETCH_OR_DECODE = re.compile(r"\b(?:curl|wget|nc|base64|python[23]?|perl|ruby|node|bash|sh)\b|/dev/tcp|[|;&`]|\$\(")


def shell_hook_of(line: str, subject: frozenset[str]) -> bool:
    """Is *line* the shell hook (activate, init, completion) of the skill's own subject tool?

    A comment after the hook (``>> ~/.bashrc   # bash``, naming the shell) is not run, so it
    is not read for fetches; what comes before the hook is, comment or not.
    """
    m = _SHELL_HOOK.search(line)
    if m is None or m.group(2).lower() not in subject:
        return False
    end = comment_start(line, "#", m.end())
    rest = re.sub(r">>\s*\S+", " ", line[:m.start(1)] + line[m.end(1):end])  # without the hook and the rc file
    return _FETCH_OR_DECODE.search(rest) is None


@functools.lru_cache(maxsize=4)
def _line_starts(text: str) -> tuple[int, ...]:
    """Where each line of *text* starts. Several hits of one file ask; the file is walked once
    (the cache is keyed on the string, whose hash Python keeps after the first lookup)."""
    return (0, *(m.end() for m in re.finditer("\n", text)))


def following(text: str, lineno: int, line: str, col: int, limit: int = 4000) -> str:
    """The text after column *col* of line *lineno* (1-based) of *text*, at most *limit* characters."""
    starts = _line_starts(text)
    start = starts[lineno - 1] if 0 < lineno <= len(starts) else -1
    return text[start + col: start + col + limit] if start >= 0 and text.startswith(line, start) else line[col:]


@dataclass
class Hit:
    """One rule match with what the allowances read around it (the text after it is cut once)."""

    rule_id: str
    line: str
    match: re.Match[str]
    text: str
    lineno: int  # 1-based, within *text*
    subject: frozenset[str]
    kind: str

    @functools.cached_property
    def after_match(self) -> str:
        return following(self.text, self.lineno, self.line, self.match.end())

    @functools.cached_property
    def after_line(self) -> str:
        return following(self.text, self.lineno, self.line, len(self.line))


def _developer_setting(h: Hit) -> bool:
    return h.match.group().lower().startswith("developer") and _DEVICE_SETTING.search(h.line) is not None


def _named_capture_service(h: Hit) -> bool:
    # in code a URL of the service is a destination whatever follows it ("https://webhook.site/" + id)
    m = h.match
    return not capture_address(h.line, m.start(), m.end()) \
        and (h.kind != "scripts" or "://" not in h.line[max(0, m.start() - 12):m.start()])


# (rule ids, test, reason): the first whose ids hold the hit's rule and whose test passes applies.
ALLOWANCES: tuple[tuple[frozenset[str], Callable[[Hit], bool], str], ...] = (
    (frozenset({"INJ-002"}), _developer_setting, "the Developer Mode setting of a device or an OS"),
    (frozenset({"PERSIST-001"}), lambda h: shell_hook_of(h.line, h.subject),
     "the documented shell hook of the tool the skill is about"),
    (frozenset({"INJ-008", "AGENT-APPROVAL-002"}), lambda h: _RECORDED_MODE.search(h.line) is not None,
     "the mode a recorded session ran in (a log), not a setting"),
    (frozenset({"TRAV-001"}), lambda h: loads_env_file(h.match.group(), h.line, h.text),
     "the workspace's .env loaded into the skill's own environment"),
    (frozenset({"RCE-001"}), lambda h: feeds_inline_program(h.match.group(), h.after_match),
     "the download is the input of a program written inline or shipped"),
    (frozenset({"PERSIST-003"}), lambda h: schedules_local_job(h.line, h.after_line),
     "schedules a local command shown in full (nothing fetched)"),
    (frozenset({"MDEXFIL-002"}), lambda h: _USERINFO.search(h.line + h.after_line[:400]) is not None,
     "credentials in a URL's user part (basic auth to a server)"),
    (frozenset({"EXFIL-005"}), _named_capture_service, "the service named, with no capture address of its own"),
    (frozenset({"EXFIL-006"}), lambda h: _MEDIA_UPLOAD.search(h.line) is not None and not _SECRET_PATH.search(h.text),
     "uploads an image or media file to get a public link for it"),
    (frozenset({"PERSIST-004"}), lambda h: installs_itself_once(h.line, h.text, h.subject),
     "installs the skill's own file once, from its own host"),
)
ALLOWED = frozenset().union(*(ids for ids, _test, _reason in ALLOWANCES))


def allowance(hit: Hit) -> str | None:
    """Why *hit* is not what its rule looks for, or None."""
    for ids, test, reason in ALLOWANCES:
        if hit.rule_id in ids and test(hit):
            return reason
    return None
