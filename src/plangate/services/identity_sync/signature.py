"""Verifying a Standard Webhooks message (the scheme Svix signs Clerk's webhooks with).

The signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``, HMAC-SHA256 keyed with
the bytes of the ``whsec_`` secret's base64 part, sent base64 in ``webhook-signature`` as
space-separated ``v1,<signature>`` entries (several while a secret rotates; any one match
verifies). Svix also names the headers ``svix-id``, ``svix-timestamp`` and
``svix-signature``; either spelling is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from plangate.errors import InvalidRequest

SECRET_PREFIX = "whsec_"
MAX_ID_LENGTH = 255
_NAMES = {
    "id": ("webhook-id", "svix-id"),
    "timestamp": ("webhook-timestamp", "svix-timestamp"),
    "signature": ("webhook-signature", "svix-signature"),
}


@dataclass(frozen=True)
class VerifiedMessage:
    id: str
    timestamp: int
    body: bytes


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (ValueError when it is not one)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a Standard Webhooks secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("the part after whsec_ is not base64") from None
    if not key:
        raise ValueError("the secret is empty")
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of a message."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    headers: Mapping[str, str], body: bytes, secret: str, *, now: float, tolerance: int
) -> VerifiedMessage:
    """The message, or 400 with ``signature_missing``, ``webhook_id_invalid`` (over 255
    characters), ``timestamp_invalid`` (not a number, or more than ``tolerance`` seconds from
    ``now`` either way) or ``signature_invalid``."""
    found = {field: _header(headers, names) for field, names in _NAMES.items()}
    missing = [_NAMES[field][0] for field, value in found.items() if not value]
    if missing:
        raise InvalidRequest(
            "signature_missing", f"the {', '.join(missing)} header is missing", param=missing[0]
        )
    message_id, raw_timestamp, signatures = found["id"], found["timestamp"], found["signature"]
    if len(message_id) > MAX_ID_LENGTH or not message_id.isprintable():
        raise InvalidRequest(
            "webhook_id_invalid", "webhook-id is not an id of up to 255 characters",
            param="webhook-id",
        )
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise InvalidRequest(
            "timestamp_invalid", "webhook-timestamp is not a number", param="webhook-timestamp"
        ) from None
    if abs(now - timestamp) > tolerance:
        raise InvalidRequest(
            "timestamp_invalid",
            f"webhook-timestamp is more than {tolerance} s from now",
            param="webhook-timestamp",
        )
    expected = sign(secret_key(secret), message_id, timestamp, body)
    for entry in signatures.split():
        if entry.startswith("v1,") and hmac.compare_digest(entry, expected):
            return VerifiedMessage(message_id, timestamp, body)
    raise InvalidRequest(
        "signature_invalid", "no v1 signature matches the body", param="webhook-signature"
    )


def _header(headers: Mapping[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        value = headers.get(name)
        if value:
            return value.strip()
    return ""
