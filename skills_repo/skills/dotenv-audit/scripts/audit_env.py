#!/usr/bin/env python3
"""Audit a dotenv file (.env.example, .env.sample, .env.template) before it is committed.

Findings:
  secret-value   a secret-looking key (…TOKEN, …SECRET, …PASSWORD, …API_KEY, …) has a value
                 that is not empty, a placeholder, or a ${VAR} reference
  url-credential a URL value embeds user:password@ with a literal password
  duplicate-key  the same key is assigned twice (the last one silently wins)
  malformed      a line that is neither a comment, blank, nor KEY=VALUE
  key-style      a key that is not UPPER_SNAKE_CASE (warning)
Values are never printed: the report says which key and why, so it is safe to paste.
Exit status 1 when any finding other than a warning exists.
"""

from __future__ import annotations

import re
import sys

SECRET_KEY = re.compile(
    r"(SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)(_|$)"
)
PLACEHOLDER = re.compile(
    r"^(|changeme|change-me|replace-?me|todo|xxx+|\*+|<[^>]*>|\$\{[A-Za-z_][A-Za-z0-9_]*\}"
    r"|your[-_].*|example[-_].*|.*[-_]here|dummy|none|null)$",
    re.I,
)
URL_CREDENTIAL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:(?P<password>[^/@\s]+)@", re.I)
LINE = re.compile(r"^(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(?P<value>.*)$")


def unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return re.sub(r"(^|\s+)#.*$", "", value)  # unquoted values may carry a trailing comment


def audit(lines: list[str]) -> list[tuple[int, str, str, str]]:
    findings = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            findings.append((number, "error", "malformed", "expected KEY=VALUE"))
            continue
        key, value = m["key"], unquote(m["value"])
        if key in seen:
            findings.append((number, "error", "duplicate-key", f"{key} already set on line {seen[key]}"))
        seen[key] = number
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
            findings.append((number, "warning", "key-style", f"{key} is not UPPER_SNAKE_CASE"))
        url = URL_CREDENTIAL.match(value)
        if url and not PLACEHOLDER.match(url["password"]):
            findings.append((number, "error", "url-credential", f"{key} embeds a literal password in its URL"))
        elif SECRET_KEY.search(key.upper()) and not PLACEHOLDER.match(value) and not url:
            findings.append((number, "error", "secret-value",
                             f"{key} looks like a secret but has a real-looking value ({len(value)} chars)"))
    return findings


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: audit_env.py FILE...", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            findings = audit(fh.read().splitlines())
        for number, severity, rule, message in findings:
            print(f"{path}:{number}: {severity} {rule}: {message}")
            if severity == "error":
                status = 1
        errors = sum(1 for f in findings if f[1] == "error")
        print(f"{path}: {errors} error(s), {len(findings) - errors} warning(s)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
