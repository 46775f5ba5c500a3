"""Run inside the Hermes Agent venv: tools/skills_guard on each folder named on stdin (JSON list).

A skill counts as flagged when skills_guard would refuse to install it from a community source
(``should_allow_install`` is false: a "caution" or "dangerous" verdict for that trust level).
Prints one JSON object: {"flagged": {folder: bool}, "seconds": scan time without start-up}.
"""

import json
import sys
import time
from pathlib import Path

from tools import skills_guard

folders = json.load(sys.stdin)
flagged = {}
t0 = time.perf_counter()
for folder in folders:
    try:
        result = skills_guard.scan_skill(Path(folder), source="community")
        allowed, _why = skills_guard.should_allow_install(result)
        flagged[folder] = not allowed
    except Exception as exc:
        print(f"hermes: {folder}: {type(exc).__name__}: {exc}", file=sys.stderr)
        flagged[folder] = None
print(json.dumps({"flagged": flagged, "seconds": time.perf_counter() - t0}))
