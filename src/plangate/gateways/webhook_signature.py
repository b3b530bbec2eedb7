"""Verifying ``Stripe-Signature`` with the official SDK (HMAC-SHA256 over ``"t.<raw body>"``)."""

from __future__ import annotations

import time

import stripe

DEFAULT_TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    """Missing, malformed, forged or stale signature."""


def _signed_timestamp(header: str) -> int:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            return int(value)
    raise SignatureInvalid("no timestamp in the Stripe-Signature header")


def verify_signature(
    payload: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raises :class:`SignatureInvalid` unless one ``v1`` signature of ``header`` matches the
    raw ``payload`` under ``secret`` and its timestamp is within ``tolerance`` seconds of now,
    either way: the SDK only refuses old timestamps, and a signature dated in the future
    would stay replayable for as long as it is ahead."""
    if not header:
        raise SignatureInvalid("no Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), header, secret, tolerance=tolerance
        )
        signed_at = _signed_timestamp(header)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise SignatureInvalid(str(exc)) from exc
    # Wall-clock time, as the SDK's own check of old timestamps uses.
    if signed_at > time.time() + tolerance:
        raise SignatureInvalid("the signature's timestamp is in the future")
