"""Run inside the Cisco skill-scanner venv: scan each folder named on stdin (JSON list).

Offline analyzers only (static YAML/YARA rules, bytecode, pipeline taint, behavioral dataflow);
the LLM, VirusTotal and AI Defense analyzers need network services and stay off. A skill counts
as flagged when the scanner calls it unsafe (a HIGH or CRITICAL finding). Prints one JSON
object: {"flagged": {folder: bool}, "seconds": scan time without start-up}.
"""

import json
import sys
import time

from skill_scanner.core.analyzer_factory import build_analyzers
from skill_scanner.core.scan_policy import ScanPolicy
from skill_scanner.core.scanner import SkillScanner

folders = json.load(sys.stdin)
policy = ScanPolicy.default()
scanner = SkillScanner(analyzers=build_analyzers(policy, use_behavioral=True), policy=policy)
flagged = {}
t0 = time.perf_counter()
for folder in folders:
    try:
        flagged[folder] = not scanner.scan_skill(folder).is_safe
    except Exception as exc:  # a skill the peer cannot load is reported, not counted as flagged
        print(f"cisco: {folder}: {type(exc).__name__}: {exc}", file=sys.stderr)
        flagged[folder] = None
print(json.dumps({"flagged": flagged, "seconds": time.perf_counter() - t0}))
