"""Bundled scripts, read a little deeper than line regexes where it is cheap.

Evasion in scripts hides the words a rule looks for: ``'ex' + 'ec' + 'Sync'``, the name of
``child_process`` as hex, ``exec`` of what ``requests.get`` returned, a payload behind a date
check, file contents leaked through DNS names, a hook written into the repository through
``../``. Each check here is a few regexes over one file plus, where needed, a tiny dataflow
(which variables hold downloaded data). Folded and decoded strings go back to the rule packs
via ``rescan``. Committed private keys are checked in every file (``private_keys``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from skillctl.scan.context import is_test_file
from skillctl.scan.keywords import lowered

# Names whose assembly at run time is itself a sign of evasion.
_DANGEROUS_NAMES = re.compile(
    r"^(?:exec|eval|spawn|system|popen|execSync|execFileSync|spawnSync|execFile|Function|__import__|getattr|"
    r"child_process|subprocess|os\.system|Invoke-Expression|DownloadString|iex)$"
    r"|child_process|execSync|spawnSync|subprocess|os\.system|/bin/(?:ba)?sh|\bcurl\s|\bwget\s|powershell|"
    r"Invoke-Expression|/dev/tcp/",
    re.IGNORECASE,
)
_LITERAL = re.compile(r"'([^'\\\n]*)'|\"([^\"\\\n]*)\"")
_JOINED = re.compile(r"['\"][^\S\n]*\+\s*['\"]")
_DECODE_CALL = re.compile(
    r"Buffer\.from\(\s*['\"]([A-Za-z0-9+/=]{2,})['\"]\s*,\s*['\"](hex|base64)['\"]"
    r"|bytes\.fromhex\(\s*['\"]([0-9A-Fa-f\s]{2,})['\"]"
    r"|\batob\(\s*['\"]([A-Za-z0-9+/=]{4,})['\"]"
    r"|b(?:64|32)decode\(\s*b?['\"]([A-Za-z0-9+/=]{4,})['\"]"
    r"|codecs\.decode\(\s*b?['\"]([0-9A-Fa-f]{4,})['\"]\s*,\s*['\"]hex['\"]",
)
_DNS = re.compile(
    # the commands as typed (lower case, then an argument): ``Host='{host}'`` is a PowerShell key
    r"\b(?-i:nslookup|dig|host|drill)[ \t]+[^\n]*?['\"]?\$\{?\w+\}?\.(?:[a-z0-9-]+\.)+[a-z]{2,}"
    r"|\b(?:gethostbyname|getaddrinfo|resolve|lookup|query|resolve4|resolveTxt)\s*\(\s*f?['\"`][^'\"`\n]*"
    r"(?:\{[^}]+\}|\$\{[^}]+\})\.(?:[\w-]+\.)*[a-z]{2,}['\"`]",
    re.IGNORECASE,
)
_DNS_WORDS = ("nslookup", "dig ", "host ", "drill ", "gethostbyname", "getaddrinfo", "resolve", "lookup(", "query(")
_ENCODES = re.compile(r"\bbase(?:32|64)\b|b(?:32|64)encode|\bfold\s+-w|\bxxd\b|\bchunk|\.hex\(\)|toString\(['\"](?:hex|base64)",  # noqa: E501
                      re.IGNORECASE)
_DATE_GATE = re.compile(
    r"date\s*\+%s[^\n]*-(?:gt|ge|lt|le)\s*['\"]?\d{9,10}"
    r"|\b(?:datetime\.)?(?:date|datetime)\(\s*20\d\d\s*,\s*\d{1,2}\s*,\s*\d{1,2}[^\n]*|[<>]=?[^\n]*\b(?:datetime\.)?"
    r"(?:date|datetime)\(\s*20\d\d\s*,"
    r"|Date\.now\(\)\s*[<>]=?\s*\d{12,13}|\d{12,13}\s*[<>]=?\s*Date\.now\(\)"
    r"|new Date\(\s*['\"]20\d\d-\d\d-\d\d[^)]*\)\s*[<>]|[<>]=?\s*new Date\(\s*['\"]20\d\d-\d\d-\d\d"
    r"|time\.time\(\)\s*[<>]=?\s*\d{9,10}",
)
_DATE_COMPARE = re.compile(r"[<>]=?|-(?:gt|ge|lt|le)\b")
_PAYLOAD = re.compile(
    r"\brm\s+-\w*[rf]|\bshutil\.rmtree|\bos\.(?:remove|unlink|system)|\bsubprocess\.|\bexec\(|\beval\(|\bcurl\b|"
    r"\bwget\b|child_process|execSync|\|\s*(?:ba)?sh\b|\bbash\s+-c\b|Remove-Item|\bunlink(?:Sync)?\(|\brmSync\(",
)
_FETCH_ASSIGN = re.compile(
    r"^\s*(?:const|let|var)?\s*(\w+)\s*=\s*[^\n]*\b(?:requests\.(?:get|post)|urlopen|urllib\.request|httpx\.(?:get|post)|"
    r"fetch\(|axios\.get|http\.get|https\.get|urlretrieve|session\.get)",
    re.MULTILINE,
)
_FETCH_WORDS = ("requests.", "urlopen", "urllib", "httpx", "fetch(", "axios", "http.get", "https.get",
                "urlretrieve", "session.get")
# (``regex.exec(data)`` and ``model.eval()`` are methods of an object, not the evaluator)
_SINK = r"(?<!\.)\b(?:exec|eval|pickle\.loads?|marshal\.loads|cloudpickle\.loads?|dill\.loads?|joblib\.load|" \
        r"torch\.load|" \
        r"yaml\.unsafe_load|new Function|Function)\s*\(\s*"
# One of these (lower case) is in every _SINK match.
_SINK_WORDS = ("exec", "eval", "pickle.load", "marshal.load", "dill.load", "joblib.load", "torch.load",
               "yaml.unsafe_load", "function")
_DIRECT_SINK = re.compile(_SINK + r"[^\n]*\b(?:urlopen|requests\.get|httpx\.get|fetch\(|urllib\.request)", re.IGNORECASE)  # noqa: E501
_UPS_JOIN = re.compile(r"(?:os\.path\.join|path\.join|path\.resolve|Path)\s*\(([^)\n]*)\)")
_UPS_LITERAL = re.compile(r"((?:\.\./){1,})([^\s'\"`;|&)]*)")
_SENSITIVE_TARGET = re.compile(
    r"\.git/hooks|\.git['\"]?\s*,\s*['\"]hooks|\.github/workflows|\.github['\"]?\s*,\s*['\"]workflows|\.bashrc|\.zshrc|"
    r"\.bash_profile|\.profile\b|authorized_keys|\.ssh\b|\.claude\b|\.codex\b|\.hermes\b|\.cursor\b|CLAUDE\.md|AGENTS\.md|"
    r"LaunchAgents|\.config/autostart|crontab|\.git/config|\.npmrc|\.pypirc",
)
_MD_LINK_UP = re.compile(r"\]\((?:\.\./)+")
_WRITE = re.compile(r"open\([^\n]*['\"][wa]b?\+?['\"]|write_text|write_bytes|writeFile|appendFile|createWriteStream|"
                    r"(?:^|\s)>>?\s*|\btee\b|\bcp\s|\bmv\s|\bln\s+-s|\binstall\s+-m|shutil\.copy")


@dataclass(frozen=True)
class CodeHit:
    rule_id: str
    category: str
    severity: str
    line: int
    message: str
    snippet: str


def _lineno(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def fold_concatenations(line: str) -> str | None:
    """*line* with adjacent string literals joined across ``+`` (``'ex' + 'ec'`` -> ``'exec'``), if any were."""
    lits = list(_LITERAL.finditer(line))
    if len(lits) < 2:
        return None
    out, last, changed = [], 0, False
    i = 0
    while i < len(lits):
        j = i
        while j + 1 < len(lits) and re.fullmatch(r"\s*\+\s*", line[lits[j].end():lits[j + 1].start()]):
            j += 1
        if j > i:
            joined = "".join((m.group(1) if m.group(1) is not None else m.group(2)) for m in lits[i:j + 1])
            out.append(line[last:lits[i].start()] + "'" + joined + "'")
            last = lits[j].end()
            changed = True
        i = j + 1
    if not changed:
        return None
    out.append(line[last:])
    return "".join(out)


def _decode(m: re.Match[str]) -> str | None:
    try:
        if m.group(1) is not None:
            raw = bytes.fromhex(m.group(1)) if m.group(2) == "hex" else base64.b64decode(m.group(1) + "==", validate=False)  # noqa: E501
        elif m.group(3) is not None:
            raw = bytes.fromhex("".join(m.group(3).split()))
        elif m.group(4) is not None:
            raw = base64.b64decode(m.group(4) + "==", validate=False)
        elif m.group(5) is not None:
            blob = m.group(5)
            raw = (base64.b32decode(blob + "=" * (-len(blob) % 8)) if "32" in m.group(0)[:4]
                   else base64.b64decode(blob + "==", validate=False))
        else:
            raw = bytes.fromhex(m.group(6))
        text = raw.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return text if text and all(c.isprintable() or c in "\n\t" for c in text) else None


Rescan = Callable[[str], Iterable[tuple[str, str, str, str]]]  # text -> (rule_id, category, severity, message)


def analyze_script(text: str, rel: str, rescan: Rescan) -> list[CodeHit]:
    """Findings for one script file; *rel* is its path inside the skill (for ``../`` depth)."""
    out: list[CodeHit] = []
    lines = text.split("\n")
    # Only a line with a closing quote, "+" and an opening quote can fold (fold_concatenations).
    candidates = sorted({_lineno(text, m.start()) for m in _JOINED.finditer(text)}) if "+" in text else []
    for no in candidates:
        folded = fold_concatenations(lines[no - 1])
        if folded is not None:
            out += _assembled(folded, no, "a string assembled by concatenation", rescan,
                              [m.group(1) or m.group(2) or "" for m in _LITERAL.finditer(folded)])
    for m in _DECODE_CALL.finditer(text):
        plain = _decode(m)
        if plain:
            out += _assembled(plain, _lineno(text, m.start()), "a string decoded at run time", rescan, [plain])
    out += _dns(text)
    out += _time_bombs(lines)
    out += _fetched_code(text)
    out += _escapes(text, rel)
    return out


def _assembled(text: str, line: int, what: str, rescan: Rescan, literals: list[str]) -> list[CodeHit]:
    """A dangerous name or a rule hit that only appears once the string is put together."""
    out = []
    names = [lit for lit in literals if lit and _DANGEROUS_NAMES.search(lit)]
    if names:
        out.append(CodeHit("OBF-ASSEMBLE-001", "obfuscation", "high", line,
                           f"{what} yields {names[0][:60]!r}: the name of a dangerous call is hidden from review",
                           text.strip()[:160]))
    for rule_id, category, severity, message in rescan(text):
        raised = "high" if severity in ("info", "low", "medium") else severity
        out.append(CodeHit(rule_id, category, raised, line, f"in {what}: {message}", text.strip()[:160]))
    return out


def _dns(text: str) -> list[CodeHit]:
    out = []
    if not any(w in text for w in _DNS_WORDS):
        return []
    for m in _DNS.finditer(text):
        encodes = _ENCODES.search(text) is not None
        out.append(CodeHit(
            "EXFIL-DNS-001", "exfiltration", "critical" if encodes else "high", _lineno(text, m.start()),
            "DNS lookups of names built from variables" + (" holding encoded data" if encodes else "") +
            ": data leaves through DNS queries, which firewalls rarely block", m.group().strip()[:160]))
        break
    return out


def _time_bombs(lines: list[str]) -> list[CodeHit]:
    for i, line in enumerate(lines):
        # every date gate names "date", "Date" or "time.time": a substring test spares the regex
        if ("date" not in line and "Date" not in line and "time.time" not in line) \
                or not _DATE_GATE.search(line) or not _DATE_COMPARE.search(line):
            continue
        window = "\n".join(lines[i: i + 7])
        if _PAYLOAD.search(window):
            return [CodeHit("TIMEBOMB-001", "time-bomb", "high", i + 1,
                            "code that runs destructive or remote commands only after a fixed date (a time bomb)",
                            line.strip()[:160])]
    return []


def _fetched_code(text: str) -> list[CodeHit]:
    out = []
    if not any(w in text for w in _FETCH_WORDS):
        return []
    low = lowered(text)
    if not any(w in low for w in _SINK_WORDS):
        return []  # nothing could run or unpickle what was fetched
    m = _DIRECT_SINK.search(text)
    if m:
        out.append(m)
    names = {a.group(1) for a in _FETCH_ASSIGN.finditer(text)}
    if names:
        # one step on: ``const code = await res.text()`` holds the download as well
        derived = re.compile(r"^\s*(?:const|let|var)?\s*(\w+)\s*=\s*[^\n]*\b(?:"
                             + "|".join(map(re.escape, sorted(names))) + r")\b", re.MULTILINE)
        names |= {a.group(1) for a in derived.finditer(text)}
        sink = re.compile(_SINK + r"(?:" + "|".join(map(re.escape, sorted(names))) + r")\b")
        s = sink.search(text)
        if s:
            out.append(s)
    if not out:
        return []
    first = min(out, key=lambda x: x.start())
    return [CodeHit("RCE-FETCH-001", "remote-code-execution", "critical", _lineno(text, first.start()),
                    "code or a pickle downloaded at run time is executed or unpickled",
                    text[first.start(): text.find("\n", first.start())].strip()[:160])]


def _escapes(text: str, rel: str) -> list[CodeHit]:
    """Paths that climb out of the skill folder towards places that run code or hold secrets."""
    depth = rel.count("/")
    if is_test_file(rel) and not _WRITE.search(text):
        return []  # a test that writes nothing: its '../' literals are inputs for the code under test
    out = []
    for no, line in enumerate(text.split("\n"), start=1):
        if ".." not in line:
            continue
        ups = 0
        for m in _UPS_JOIN.finditer(line):
            ups = max(ups, len(re.findall(r"['\"]\.\.['\"]", m.group(1))) + m.group(1).count("../"))
        anchored = "__file__" in line or "here" in line or "dirname" in line or "$0" in line
        for m in _UPS_LITERAL.finditer(line):
            ups = max(ups, m.group(1).count("../"))
        limit = depth if anchored else 0
        if ups <= limit or _MD_LINK_UP.search(line):
            continue  # inside the skill, or a relative markdown link in a template string
        if _SENSITIVE_TARGET.search(line):
            out.append(CodeHit("TRAV-WRITE-001", "path-traversal", "high", no,
                               "the script reaches outside the skill folder through '../' into a file that runs "
                               "code or holds secrets (git hooks, CI workflows, shell or agent configuration)",
                               line.strip()[:160]))
        elif _WRITE.search(line):
            out.append(CodeHit("TRAV-WRITE-002", "path-traversal", "low", no,
                               "the script writes outside the skill folder through '../'", line.strip()[:160]))
    return out


_KEY = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----")
_PLACEHOLDER = re.compile(r"example|placeholder|redacted|replace|your[-_ ]?key|\.\.\.|x{8}|<[^>]*>", re.IGNORECASE)


def private_keys(text: str) -> list[CodeHit]:
    """Committed private keys, also inside JSON strings (``\\n`` escapes), with a real key body."""
    out = []
    for m in _KEY.finditer(text):
        end = text.find("-----END", m.end())
        body = text[m.end(): end if end != -1 else m.end() + 4096]
        if _PLACEHOLDER.search(body[:400]):
            continue
        chars = re.sub(r"\\n|\\r|\s", "", body)
        if len(re.findall(r"[A-Za-z0-9+/=]", chars)) < 60 or re.search(r"[^A-Za-z0-9+/=:,\-\"]", chars[:200]):
            continue
        out.append(CodeHit("SECRET-001", "secrets", "critical", _lineno(text, m.start()),
                           f"a {m.group(1).lower()} is committed with the skill: anyone who can read the skill "
                           "has the key", m.group()))
    return out
