"""How plangate's Stripe requests travel: paced by a shared call budget, retried with backoff.

The SDK's own retries (``max_network_retries``) are turned off in favour of this client,
because they do not fit a billing system's bursts: they never retry a 429 (only 409, 5xx and
connection errors, unless Stripe says ``Stripe-Should-Retry: true``), they wait at least half
a second and at most 5 s with a jitter of half the delay, so workers that were refused
together come back together, and they retry without asking the budget, so retries alone can
push an installation past its rate. Here every attempt, the first and each retry, takes a
token from the budget first; 429s, 409s, 5xx and connection errors (timeouts included) are
retried with exponential backoff and full jitter (a uniform wait between 0 and the doubling
cap); ``Stripe-Should-Retry`` overrides that choice either way, as Stripe asks. POSTs carry the
SDK's ``Idempotency-Key`` (generated once per call, before the first attempt), so a retry of a
POST whose answer was lost gets Stripe's stored answer instead of doing the work twice; a 5xx
that *is* such a stored answer (``Idempotent-Replayed: true``) is final, as Stripe would
replay it to every retry. An API process also gives its retries a deadline
(``RetryPolicy.deadline_seconds``): its caller is waiting, and is better told to come back.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe

from plangate.gateways.base import CallBudget


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_seconds: float = 0.25
    cap_seconds: float = 8.0
    # No retry starts once this many seconds would have passed since the first attempt (an
    # API request's caller is waiting); None: as many retries as ``max_retries`` allows.
    deadline_seconds: float | None = None

    def cap(self, retry: int) -> float:
        """The upper end of the wait before retry number ``retry`` (1, 2, ...)."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** (retry - 1)))

    def past_deadline(self, seconds: float) -> bool:
        return self.deadline_seconds is not None and seconds > self.deadline_seconds


@dataclass
class CallStats:
    """What the requests met, counted per attempt (for tests, benchmarks and logs)."""

    attempts: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status: int | None) -> None:
        with self._lock:
            self.attempts += 1
            if status is None:
                self.connection_errors += 1
            elif status == 429:
                self.rate_limited += 1
            elif status >= 500:
                self.server_errors += 1

    def retried(self) -> None:
        with self._lock:
            self.retries += 1


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def should_retry(status: int | None, headers: Mapping[str, str] | None) -> bool:
    """Stripe's advice first, then: rate limited, conflict (a lock or an idempotency key in
    use), server errors and connection errors are worth another try, except a server error
    replayed from an idempotency record."""
    advice = _header(headers, "stripe-should-retry")
    if advice == "false":
        return False
    if advice == "true":
        return True
    if status is not None and status >= 500 and replayed(headers):
        return False  # the key's stored answer: every retry with it gets the same one
    return status is None or status in (409, 429) or status >= 500


def replayed(headers: Mapping[str, str] | None) -> bool:
    """Whether Stripe answered from its idempotency record (``Idempotent-Replayed: true``):
    it keeps the first answer to a key, 500s included, for at least a day."""
    return _header(headers, "idempotent-replayed") == "true"


class PacedHttpClient(stripe.HTTPClient):
    """A ``stripe.HTTPClient`` around the SDK's default one: budget, then send, then retry."""

    name = "plangate-paced"

    def __init__(
        self,
        inner: stripe.HTTPClient,
        budget: CallBudget | None = None,
        policy: RetryPolicy | None = None,
        *,
        stats: CallStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.budget = budget
        self.policy = policy or RetryPolicy()
        self.stats = stats or CallStats()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()

    def delay(self, retry: int, headers: Mapping[str, str] | None) -> float:
        with self._rng_lock:
            wait = self._rng.uniform(0, self.policy.cap(retry))
        retry_after = _header(headers, "retry-after")
        if retry_after is not None and retry_after.replace(".", "", 1).isdigit():
            wait = max(wait, min(float(retry_after), self.policy.cap_seconds))
        return wait

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        retry, started = 0, self._clock()
        while True:
            if self.budget is not None:
                self.budget.acquire()
            failure: stripe.APIConnectionError | None = None
            try:
                response = self.inner.request(method, url, headers, post_data)
            except stripe.APIConnectionError as exc:
                self.stats.count(None)
                if not exc.should_retry:
                    raise
                failure, rheaders = exc, None
            else:
                status, rheaders = response[1], response[2]
                self.stats.count(status)
                if status < 400 or not should_retry(status, rheaders):
                    return response
            wait = self.delay(retry + 1, rheaders) if retry < self.policy.max_retries else None
            if wait is None or self.policy.past_deadline(self._clock() - started + wait):
                if failure is not None:
                    raise failure
                return response
            retry += 1
            self.stats.retried()
            self._sleep(wait)

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        # File downloads only, which plangate does not make: paced, not retried.
        if self.budget is not None:
            self.budget.acquire()
        return self.inner.request_stream(method, url, headers, post_data)

    def close(self) -> None:
        self.inner.close()  # type: ignore[no-untyped-call]
