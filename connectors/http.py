"""One HTTP session setup for every connector: retries by the project's policy, a user agent.

The session retries idempotent requests (GET, HEAD) at the transport level, with the numbers of
`citydata.retry` meaning what they mean there: `attempts` tries in all (the first included), on
connection errors and 429/500/502/503/504, waits from `backoff_s` doubling (jittered, each capped),
Retry-After honoured. Transport level, because the callers stream their downloads (`http_file`,
`citydata draft`) and a retry must happen before the body is read. A caller that retries itself
(the REST source: each try rate-limited and counted) asks for `attempts=1`.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

from citydata.retry import RetryPolicy, urllib3_retry

USER_AGENT = "citydata/0.1 (+open data platform of Ho Chi Minh City)"

# 5 tries in all (the session's former `retries=4`), waits of 0.5, 1, 2, 4 s (+ jitter), each <= 8 s.
HTTP_POLICY = RetryPolicy(attempts=5, backoff_s=0.5, backoff_max_s=8.0, max_wait_s=None)


def session(
    attempts: int = HTTP_POLICY.attempts, backoff_s: float = HTTP_POLICY.backoff_s
) -> requests.Session:
    """A session whose GET/HEAD requests get `attempts` tries in all (1: no retry)."""
    policy = RetryPolicy(attempts, backoff_s, HTTP_POLICY.backoff_max_s, max_wait_s=None)
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=urllib3_retry(policy, methods=("GET", "HEAD")))
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s
