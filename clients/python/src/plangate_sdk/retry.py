"""When the SDK retries a request, and how long it waits first.

Retried: connection failures, 429 and 5xx. Never 4xx: the same request would fail the same
way. Every POST carries one ``Idempotency-Key`` across its attempts, so a retry after a lost
response replays the first answer instead of acting twice. After a connection failure a
DELETE (revoke, cancel, remove_team_member) is retried only when the request certainly never
reached the server.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

# Failures before any byte of the request was sent: safe to retry whatever the method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    backoff: float = 0.25
    """The first delay in seconds; doubled on each further attempt, with jitter."""
    max_backoff: float = 8.0

    def retries_error(self, method: str, exc: httpx.TransportError, attempt: int) -> bool:
        if attempt >= self.max_retries:
            return False
        return method != "DELETE" or isinstance(exc, _NOT_SENT)

    def retries_status(self, status: int, attempt: int) -> bool:
        return attempt < self.max_retries and (status == 429 or status >= 500)

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (``Retry-After`` wins if sooner
        than ``max_backoff``)."""
        if headers is not None:
            retry_after = headers.get("retry-after")
            if retry_after is not None:
                try:
                    wanted = float(retry_after)
                except ValueError:
                    wanted = -1.0
                if wanted >= 0:
                    return min(wanted, self.max_backoff)
        base = min(self.max_backoff, self.backoff * 2.0**attempt)
        return base * random.uniform(0.5, 1.0)
