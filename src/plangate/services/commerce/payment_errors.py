"""How a refusal or failure of the payment gateway reaches the API caller."""

from __future__ import annotations

import hashlib
import uuid

from plangate.errors import Conflict, GatewayFailed, NotFound, PlangateError
from plangate.gateways.base import GatewayError, GatewayNotFound


class PaymentRequired(PlangateError):
    """402: the change needs money the customer cannot pay yet (no card, a declined card).
    ``type`` stays in the API's five (invalid_request_error); ``code`` says which."""

    type = "invalid_request_error"
    status = 402


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
