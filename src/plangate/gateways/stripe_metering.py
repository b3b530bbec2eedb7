"""Counts every HTTP request the official SDK makes to Stripe (retries included, each one an
attempt the rate limit counts) by endpoint and status, for ``/metrics``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import stripe
from stripe import HTTPClient

from plangate.observability.metrics import (
    STRIPE_REQUEST_SECONDS,
    STRIPE_REQUESTS,
    stripe_endpoint,
)


class MeteredHTTPClient(HTTPClient):
    """Wraps the SDK's default HTTP client; the SDK's retry loop calls :meth:`request` once
    per attempt, so a 429 answered and retried counts twice, as Stripe counts it."""

    name = "plangate-metered"

    def __init__(self, inner: HTTPClient | None = None) -> None:
        super().__init__()
        self._inner = inner or stripe.new_default_http_client()

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        endpoint = stripe_endpoint(_path(url))
        verb = method.upper()
        started = time.perf_counter()
        try:
            body, status, answer_headers = self._inner.request(method, url, headers, post_data)
        except Exception:
            STRIPE_REQUESTS.labels(verb, endpoint, "error").inc()
            raise
        finally:
            STRIPE_REQUEST_SECONDS.labels(verb, endpoint).observe(
                time.perf_counter() - started
            )
        STRIPE_REQUESTS.labels(verb, endpoint, str(status)).inc()
        return body, status, answer_headers

    def close(self) -> None:
        self._inner.close()  # type: ignore[no-untyped-call]


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"
