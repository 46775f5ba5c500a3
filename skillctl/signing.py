"""Signed verdicts: SSH signatures over lock entries, checked against ``allowed_signers``.

Anyone who can push can edit ``skills.lock``, and the lock is what the loader obeys, so a
hand-written ``status: active`` must not be worth anything. ``verify --apply --sign-key KEY``
signs each entry it writes with ``ssh-keygen -Y sign`` (namespace ``skillctl-lock``); with
``require_signed: true`` in skillctl.yaml the loader refuses an active entry whose signature is
missing, made by a key not listed in the repo's ``allowed_signers`` file (the format git uses
for ``gpg.ssh.allowedSignersFile``), or made over different field values.

The signature covers the skill's name and every field that makes an entry loadable or says
what was verified (``SIGNED_FIELDS``: digest, status, times, checks, findings, approval,
tier ...), not free text (``reason``, ``notes``, ``since``) that audits append to.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from skillctl.clock import format_ts
from skillctl.errors import SkillctlError
from skillctl.lockmodel import LockEntry

NAMESPACE = "skillctl-lock"
SIGNED_FIELDS = ("version", "path", "digest", "status", "verified_at", "verified_commit", "expires_at", "checks",
                 "env", "findings", "approval", "tier", "source_tier")
KEY_ENV = "SKILLCTL_SIGNING_KEY"
_ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_ARMOR_END = "-----END SSH SIGNATURE-----"
TIMEOUT = 20


class SigningError(SkillctlError):
    """The signing key or the allowed signers file cannot be used."""

    code = "SC080"


def payload(name: str, entry: LockEntry) -> bytes:
    """The exact bytes signed for one entry: canonical JSON, timestamps as the lock writes them."""
    data = entry.model_dump(mode="python", include=set(SIGNED_FIELDS))
    return json.dumps({"name": name, "entry": _canonical(data)}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, datetime):
        return format_ts(value)
    return value


def _ssh_keygen() -> str:
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise SigningError("ssh-keygen not found on PATH (OpenSSH >= 8.2 signs and checks lock entries)")
    return exe


def _run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run([_ssh_keygen(), *args], input=stdin, capture_output=True, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        raise SigningError(f"ssh-keygen {args[0]} {args[1]} timed out") from None


def armor(body: str) -> str:
    lines = [body[i:i + 70] for i in range(0, len(body), 70)]
    return "\n".join([_ARMOR_BEGIN, *lines, _ARMOR_END]) + "\n"


def unarmor(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("-----"))


@dataclass
class Signer:
    """A private key and the principal ``allowed_signers`` lists for it."""

    key: Path
    principal: str

    @classmethod
    def from_key(cls, key: Path | str, allowed_signers: Path) -> Signer:
        """Find *key*'s principal in *allowed_signers* by signing a probe; refuse an unlisted key."""
        key = Path(key)
        if not key.is_file():
            raise SigningError("signing key not found", path=key)
        if not allowed_signers.is_file():
            raise SigningError("no allowed_signers file: list the signing key's public half there first",
                               path=allowed_signers)
        signer = cls(key, "")
        probe = signer._sign(b"skillctl signing probe")
        with tempfile.TemporaryDirectory(prefix="skillctl-sign-") as tmp:
            sig = Path(tmp) / "probe.sig"
            sig.write_text(armor(probe), encoding="ascii")
            found = _run(["-Y", "find-principals", "-s", str(sig), "-f", str(allowed_signers)])
        principals = found.stdout.decode("utf-8", "replace").split()
        if found.returncode != 0 or not principals:
            raise SigningError(f"the signing key is not listed in {allowed_signers.name}; add its public key "
                               "there (principal, then the key, as for git)", path=key)
        signer.principal = principals[0]
        return signer

    def _sign(self, data: bytes) -> str:
        with tempfile.TemporaryDirectory(prefix="skillctl-sign-") as tmp:
            msg = Path(tmp) / "entry"
            msg.write_bytes(data)
            done = _run(["-Y", "sign", "-q", "-f", str(self.key), "-n", NAMESPACE, str(msg)])
            sig = Path(tmp) / "entry.sig"
            if done.returncode != 0 or not sig.is_file():
                err = done.stderr.decode("utf-8", "replace").strip().splitlines()
                raise SigningError(f"ssh-keygen could not sign: {err[-1] if err else 'no output'}", path=self.key)
            return unarmor(sig.read_text(encoding="ascii", errors="replace"))

    def sign(self, name: str, entry: LockEntry) -> LockEntry:
        """*entry* with ``signed_by`` and ``signature`` set over its signed fields."""
        return entry.model_copy(update={"signed_by": self.principal, "signature": self._sign(payload(name, entry))})


@dataclass
class SignatureChecker:
    """Checks entries against one ``allowed_signers`` file."""

    allowed_signers: Path

    @classmethod
    def from_config(cls, root: Path, config: Any) -> SignatureChecker:
        return cls(allowed_signers_path(root, config))

    def problem(self, name: str, entry: LockEntry) -> str | None:
        """Why *entry* is not a verdict signed by an allowed signer, or None when it is."""
        if not entry.signature or not entry.signed_by:
            return "lock entry is not signed (require_signed is set): re-run skillctl verify --apply --sign-key"
        if not self.allowed_signers.is_file():
            return f"require_signed is set but {self.allowed_signers.name} is missing: no signature can be trusted"
        with tempfile.TemporaryDirectory(prefix="skillctl-sign-") as tmp:
            sig = Path(tmp) / "entry.sig"
            sig.write_text(armor(entry.signature), encoding="ascii", errors="replace")
            done = _run(["-Y", "verify", "-f", str(self.allowed_signers), "-I", entry.signed_by, "-n", NAMESPACE,
                         "-s", str(sig)], stdin=payload(name, entry))
        if done.returncode != 0:
            return (f"lock entry signature does not verify for {entry.signed_by!r} against "
                    f"{self.allowed_signers.name}: the entry was edited after signing, or signed by another key")
        return None


def allowed_signers_path(root: Path, config: Any) -> Path:
    rel = getattr(config, "allowed_signers", None) or "allowed_signers"
    path = Path(rel)
    return path if path.is_absolute() else Path(root) / path


def signer_for(root: Path, config: Any, key: Path | str | None) -> Signer | None:
    """The signer for this run: ``--sign-key``, else ``$SKILLCTL_SIGNING_KEY``, else none."""
    key = key or os.environ.get(KEY_ENV) or None
    if key is None:
        return None
    return Signer.from_key(key, allowed_signers_path(root, config))
