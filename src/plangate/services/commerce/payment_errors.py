"""How a refusal or failure of the payment gateway reaches the API caller."""

from __future__ import annotations

import hashlib
import uuid

from plangate.errors import Conflict, GatewayFailed, GatewayUnavailable, NotFound, PlangateError
from plangate.gateways.base import GatewayError, GatewayNotFound


class PaymentRequired(PlangateError):
    """402: the change needs money the customer cannot pay yet (no card, a declined card).
    ``type`` stays in the API's five (invalid_request_error); ``code`` says which."""

    type = "invalid_request_error"
    status = 402


# How long a caller is asked to wait before retrying a request Stripe could not answer: a few
# of Stripe's own backoff steps, enough for a burst's queue of calls or a blip to pass.
RETRY_AFTER_SECONDS = 5


def unavailable(exc: GatewayError, doing: str = "") -> GatewayUnavailable:
    """The retryable refusal: Stripe timed out, rate limited or failed, on every retry plangate
    had time for. A retry with the same ``Idempotency-Key`` repeats the same Stripe writes,
    so whatever Stripe did do is not done twice."""
    return GatewayUnavailable(
        "gateway_unavailable",
        f"the payment gateway is unavailable{doing}, retry with the same Idempotency-Key "
        f"after {RETRY_AFTER_SECONDS} s: {exc}",
        retry_after=RETRY_AFTER_SECONDS,
    )


def from_gateway(exc: GatewayError, *, param: str | None = None) -> PlangateError:
    """The API error for a gateway failure, with a stable code."""
    if isinstance(exc, GatewayNotFound):
        return NotFound("gateway_object_not_found", str(exc), param=param)
    if exc.code == "card_declined":
        return PaymentRequired("card_declined", f"the card was declined: {exc}", param=param)
    if exc.code == "idempotency_key_reused":
        return Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request; use a new key",
            param="Idempotency-Key",
        )
    if exc.retryable:
        return unavailable(exc)
    return GatewayFailed("gateway_error", f"the payment gateway failed: {exc}")


def gateway_idempotency_key(scope: str | None, action: str) -> str:
    """The ``Idempotency-Key`` of one Stripe write made for an API request.

    ``scope`` names the request: the caller and its own ``Idempotency-Key``, so a retried
    request repeats the same Stripe write and Stripe answers it from its record instead of
    charging again. ``action`` tells apart the writes one request makes. Without a scope the
    key is fresh (the SDK's own retries still reuse it).
    """
    if scope is None:
        return f"plangate-{action}-{uuid.uuid4().hex}"
    digest = hashlib.sha256(scope.encode()).hexdigest()[:40]
    return f"plangate-{action}-{digest}"
