"""Local tools: the installed binary's ``--version``, parsed.

The package name comes from a skill, and skills are untrusted: only a bare command name found
on ``PATH`` is ever run (never a path such as ``./scripts/x``, never through a shell), with
no stdin, a scrubbed environment, a neutral working directory and a timeout that kills the
whole process group. Nothing is fetched, so tool pins are never cached and work offline.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess

from skillctl.model import Pin
from skillctl.rot.registries.base import PinInfo, PinMalformed, PinMissing, PinUnreachable, Release

DEFAULT_BASE_URL = None
NETWORK = False
TIMEOUT = 5.0
VERSION_ARGS = {"go": ["version"], "java": ["-version"], "javac": ["-version"], "ssh": ["-V"]}
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_VERSION_RE = re.compile(r"(?<![\w.])v?(\d+\.\d+(?:\.\d+)*(?:[-+][0-9A-Za-z.]+)?)")
MAX_OUTPUT = 64 * 1024


def resolve(pin: Pin, client: object, base_url: str | None) -> PinInfo:
    name = pin.package.strip()
    if not _NAME_RE.fullmatch(name):
        raise PinMalformed(f"tool pin must be a bare command name on PATH, got {pin.package!r}")
    exe = shutil.which(name)
    if exe is None:
        raise PinMissing(f"{name} is not installed (not found on PATH)")
    args = VERSION_ARGS.get(name, ["--version"])
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT") if k in os.environ}
    proc = subprocess.Popen([exe, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd="/", env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise PinUnreachable(f"`{name} {' '.join(args)}` did not finish within {TIMEOUT:g}s") from None
    text = out[:MAX_OUTPUT].decode("utf-8", "replace")
    match = _VERSION_RE.search(text)
    if match is None:
        first = text.strip().splitlines()[0][:80] if text.strip() else "no output"
        raise PinMalformed(f"cannot find a version in `{name} {' '.join(args)}` output: {first!r}")
    version = match.group(1)
    return PinInfo("tool", name, [Release(version)], version, meta={"path": exe})
