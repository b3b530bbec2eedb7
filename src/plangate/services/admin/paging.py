"""Opaque cursors for the admin lists: the sort key of the last row of a page, so the next
page starts right after it whatever was inserted meanwhile."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from plangate.errors import InvalidRequest

MAX_PAGE = 100


def encode_cursor(*key: Any) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The key a cursor holds, or 400 ``cursor_invalid``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        key = None
    if not isinstance(key, list) or len(key) != size:
        raise InvalidRequest(
            "cursor_invalid", "the cursor is not one this list gave", param="cursor"
        )
    return key


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(
            "limit_invalid", f"limit must be between 1 and {MAX_PAGE}", param="limit"
        )
    return limit
