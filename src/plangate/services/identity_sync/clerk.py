"""Reading the identity provider's user and organization events (Clerk's names and shapes).

``user.updated`` and ``organization.updated`` carry the whole object in ``data``; the
``*.deleted`` events carry ``{"id", "deleted": true}``. A user is plangate's ``user``
customer of the same id, an organization its ``team`` customer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from plangate.domain.ids import is_valid_id
from plangate.errors import InvalidRequest
from plangate.services.entitlements.customers import CustomerRef

_KINDS: dict[str, tuple[Literal["updated", "deleted"], str]] = {
    "user.updated": ("updated", "user"),
    "user.deleted": ("deleted", "user"),
    "organization.updated": ("updated", "team"),
    "organization.deleted": ("deleted", "team"),
}


@dataclass(frozen=True)
class IdentityEvent:
    type: str
    # None: an event plangate takes nothing from (acknowledged and recorded).
    kind: Literal["updated", "deleted"] | None
    ref: CustomerRef | None = None
    # The fields the event sets (``email`` for users, ``name`` for both) and their values.
    changes: tuple[tuple[str, str | None], ...] = ()
    updated_at: int | None = None


def parse_event(body: bytes) -> IdentityEvent:
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidRequest("body_invalid", "the body is not JSON") from None
    event_type = payload.get("type") if isinstance(payload, dict) else None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(event_type, str) or not event_type or not isinstance(data, dict):
        raise InvalidRequest("body_invalid", "the body is not an event with a type and data")
    event_type = event_type[:100]
    found = _KINDS.get(event_type)
    if found is None:
        return IdentityEvent(event_type, None)
    kind, customer_type = found
    if not is_valid_id(data.get("id")):
        raise InvalidRequest("body_invalid", f"{event_type} has no data.id", param="data.id")
    ref = CustomerRef(customer_type, data["id"])
    if kind == "deleted":
        return IdentityEvent(event_type, kind, ref)
    updated_at = data.get("updated_at")
    changes = (
        (("email", _primary_email(data)), ("name", _person_name(data)))
        if customer_type == "user"
        else (("name", _text(data.get("name"))),)
    )
    return IdentityEvent(
        event_type,
        kind,
        ref,
        changes,
        updated_at if isinstance(updated_at, int) and not isinstance(updated_at, bool) else None,
    )


def _primary_email(data: dict[str, Any]) -> str | None:
    primary = data.get("primary_email_address_id")
    for address in data.get("email_addresses") or []:
        if isinstance(address, dict) and address.get("id") == primary:
            return _text(address.get("email_address"), 320)
    return None


def _person_name(data: dict[str, Any]) -> str | None:
    parts = [_text(data.get("first_name")), _text(data.get("last_name"))]
    full = " ".join(p for p in parts if p)
    return full[:500] or _text(data.get("username"))


def _text(value: Any, limit: int = 500) -> str | None:
    return (value.strip()[:limit] or None) if isinstance(value, str) else None
