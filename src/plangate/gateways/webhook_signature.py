"""Verifying ``Stripe-Signature`` with the official SDK (HMAC-SHA256 over ``"t.<raw body>"``)."""

from __future__ import annotations

import stripe

DEFAULT_TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    """Missing, malformed, forged or stale signature."""


def verify_signature(
    payload: bytes, header: str | None, secret: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> None:
    """Raises :class:`SignatureInvalid` unless one ``v1`` signature of ``header`` matches the
    raw ``payload`` under ``secret`` and its timestamp is at most ``tolerance`` seconds old."""
    if not header:
        raise SignatureInvalid("no Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), header, secret, tolerance=tolerance
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise SignatureInvalid(str(exc)) from exc
