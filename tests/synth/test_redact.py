"""Redaction: known token formats, secret assignments, high entropy; agents' own masking not trusted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillctl.synth.redact import _NOT_SECRETS as NOT_SECRETS
from skillctl.synth.redact import redact_session, redact_text
from skillctl.synth.sessions import read_sessions
from tests.synth.test_sessions import REAL


@pytest.mark.parametrize("text, secret", [
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("key id AKIAIOSFODNN7EXAMPLE in a sentence", "AKIAIOSFODNN7EXAMPLE"),
    ("export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdef"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 alone", "ghp_abcdef"),
    ("OPENAI_API_KEY: sk-proj-abcdefghijklmnopqrstuvwxyz123", "sk-proj-abc"),
    ("x-api-key sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "sk-ant-api03"),
    ("curl -H 'Authorization: Bearer abc.def-ghijklmnop'", "abc.def-ghijklmnop"),
    ("git clone https://deploy:hunter2hunter2@git.example.invalid/r.git", "hunter2hunter2"),
    ("mysql --password s3cr3tpass -u root", "s3cr3tpass"),
    ('{"client_secret": "Zq8pL2mN7vB4kR9t"}', "Zq8pL2mN7vB4kR9t"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNz"),
    ("xoxb-123456789012-abcdefghijkl", "xoxb-1234"),
    ("random Zx8Qp2LmN7vB4kR9tY6wE3sA1dF5gH0j here", "Zx8Qp2LmN7vB4kR9tY6wE3sA1dF5gH0j"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGci"),
])
def test_secrets_are_redacted(text, secret):
    assert secret not in redact_text(text)
    assert "[REDACTED:" in redact_text(text)


@pytest.mark.parametrize("text", [
    "sha256sum: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "git checkout 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
    "tr -s ' ' '\\n' < notes.txt | sort | uniq -c | sort -rn | head -3",
    "/usr/lib/python3/dist-packages/setuptools/command/build_py.py",
    "pytest -q tests/test_auth.py::test_login_with_token",
    "the KEY concept = important",
])
def test_ordinary_text_is_kept(text):
    assert redact_text(text) == text


def test_hermes_masking_is_not_trusted():
    """Hermes masked the key id in its stored output but left the secret key in clear."""
    session = next(read_sessions(REAL / "hermes" / "wordfreq.state.db"))
    env = session.steps[5]
    assert "wJalrXUtnFEMI" in env.output and "AKIAIO...MPLE" in env.output  # what Hermes stored
    found = redact_session(session)
    assert "wJalrXUtnFEMI" not in env.output and found.counts["assignment"] == 2


def test_whole_session_is_redacted(tmp_path):
    for path in (REAL / "claude-code" / "wordfreq.jsonl", REAL / "codex" / "wordfreq.jsonl"):
        session = next(read_sessions(path))
        redact_session(session)
        assert "wJalrXUtnFEMI" not in repr(session.to_dict())
        assert "AKIAIOSFODNN7EXAMPLE" not in repr(session.to_dict())


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=30), name=st.sampled_from(["API_KEY", "DB_PASSWORD", "SECRET", "AUTH_TOKEN"]),
       value=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="\"',;"),
                     min_size=8, max_size=40))
def test_fuzz_assignments_never_survive(prefix, name, value):
    if value.startswith(("$", "[REDACTED")) or value.lower() in NOT_SECRETS:
        return  # a variable, already redacted, or a word the redactor documents as no secret ("required")
    out = redact_text(f"{prefix}\n{name}={value}\n")
    assert f"{name}={value}" not in out
