"""Stripe under load: rate limits as Stripe applies them, and injected faults.

Stripe counts requests per second per account against a global limit (100/s in live mode,
25/s in test mode) and, separately, against each endpoint's limit (25/s unless stated), where
an endpoint is one named operation: `GET /v1/subscriptions/{id}` is one endpoint whatever the
id. A request over either limit is answered 429 with the error code `rate_limit` and the
`Stripe-Rate-Limited-Reason` header naming the limiter. Each limit here is a token bucket that
holds one second's worth of requests and refills continuously; a refused request takes no
token.

Faults are decided from a hash of the seed, the request and how many times the same request
was seen before, so a run with the same seed and the same requests meets the same faults,
whatever the threads' interleaving, and a retry of a failed request draws again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .wire import StripeError

# Stripe's published numbers (requests per second).
LIVE_GLOBAL_PER_SECOND = 100
TEST_GLOBAL_PER_SECOND = 25
ENDPOINT_PER_SECOND = 25

RATE_LIMIT_MESSAGE = (
    "Too many requests hit the API too quickly. We recommend an exponential backoff of your "
    "requests."
)


@dataclass(frozen=True)
class RateLimits:
    """Stripe's limits: `mode` picks the global number (live 100/s, test 25/s);
    `global_per_second` overrides it; every endpoint also gets `endpoint_per_second`."""

    mode: Literal["test", "live"] = "test"
    global_per_second: float | None = None
    endpoint_per_second: float = ENDPOINT_PER_SECOND

    @property
    def global_rate(self) -> float:
        if self.global_per_second is not None:
            return self.global_per_second
        return LIVE_GLOBAL_PER_SECOND if self.mode == "live" else TEST_GLOBAL_PER_SECOND


@dataclass(frozen=True)
class Faults:
    """Injected trouble, reproducible from `seed`.

    `error_rate`: share of requests answered 500 (`api_error`) before anything is done, as a
    failing load balancer would. `slow_rate`: share of requests handled, then answered only
    after `slow_seconds` (longer than a client's timeout, the client sees a timeout although
    the work was done; a retry with the same idempotency key gets the stored answer).
    `should_retry`: the `Stripe-Should-Retry` header sent with the injected 500s, if any.
    """

    seed: int
    error_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    should_retry: Literal["true", "false"] | None = None


class _Bucket:
    __slots__ = ("rate", "tokens", "stamp")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.tokens = max(rate, 1.0)
        self.stamp = now

    def refill(self, now: float) -> float:
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens


class RateLimiter:
    """Global and per-endpoint token buckets for each API key; thread-safe."""

    def __init__(self, limits: RateLimits,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self.admitted = 0
        self.refused = 0

    def _bucket(self, key: tuple[str, str], rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, now)
        return bucket

    def admit(self, api_key: str, endpoint: str) -> None:
        """Takes a token from both buckets, or raises the 429 Stripe answers."""
        now = self._now()
        with self._lock:
            whole = self._bucket((api_key, ""), self.limits.global_rate, now)
            one = self._bucket((api_key, endpoint), self.limits.endpoint_per_second, now)
            reason = None
            if whole.refill(now) < 1:
                reason = "global-rate"
            elif one.refill(now) < 1:
                reason = "endpoint-rate"
            if reason is None:
                whole.tokens -= 1
                one.tokens -= 1
                self.admitted += 1
                return
            self.refused += 1
        raise rate_limited(reason)


def rate_limited(reason: str) -> StripeError:
    err = StripeError(429, "invalid_request_error", RATE_LIMIT_MESSAGE, code="rate_limit")
    err.headers = {"Stripe-Rate-Limited-Reason": reason}
    return err


class FaultPlan:
    """Which requests fail and which answer late, from the seed (see the module's notes)."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self.errors = 0
        self.slow = 0

    def _draw(self, salt: str, fingerprint: str, attempt: int) -> float:
        data = f"{self.faults.seed}|{salt}|{attempt}|{fingerprint}".encode()
        return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") / 2**64

    def decide(self, fingerprint: str) -> Literal["error", "slow"] | None:
        with self._lock:
            attempt = self._seen.get(fingerprint, 0)
            self._seen[fingerprint] = attempt + 1
        if self._draw("error", fingerprint, attempt) < self.faults.error_rate:
            with self._lock:
                self.errors += 1
            return "error"
        if self._draw("slow", fingerprint, attempt) < self.faults.slow_rate:
            with self._lock:
                self.slow += 1
            return "slow"
        return None

    def error(self) -> StripeError:
        err = StripeError(500, "api_error", "An unknown error occurred (injected by the "
                          "sandbox's fault settings).")
        if self.faults.should_retry is not None:
            err.headers = {"Stripe-Should-Retry": self.faults.should_retry}
        return err
