"""A requests Session that retries transient failures with exponential backoff.

Written against requests 2.25.1 / urllib3 1.26.5 (see the skill's pins). Import and use:

    from retry_session import build_session
    session = build_session(total=5, backoff_factor=0.5)
    response = session.get("https://api.example.com/items", timeout=(3.05, 27))
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE"})


def build_session(total: int = 5, backoff_factor: float = 0.5) -> requests.Session:
    """Mount one retrying adapter for http and https; POST is deliberately not retried."""
    retry = Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=backoff_factor,
        status_forcelist=RETRY_STATUSES,
        method_whitelist=IDEMPOTENT,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
