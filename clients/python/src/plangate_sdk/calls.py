"""Each API call as data: method, path, body and how to parse the answer.

The sync and async clients only differ in how they send a :class:`Call`; describing the
calls once here keeps the two in step.
"""

from __future__ import annotations

import json
import threading
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from plangate_sdk.models import (
    CancelledOut,
    CatalogApplied,
    CatalogOut,
    CheckOut,
    CheckoutSessionCreated,
    CheckoutSessionOut,
    CustomerOut,
    EntitlementsOut,
    EntitlementToken,
    GrantResult,
    ItemChanged,
    ItemOut,
    PlanChangeOut,
    PlanChangePreviewOut,
    ProductList,
)

T = TypeVar("T")
Params = dict[str, str | int]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Params | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


def _post(path: str, parse: Callable[[Any], T], body: Any, idempotency_key: str | None) -> Call[T]:
    # One key per logical call, made here so that every retry of this call sends it.
    key = idempotency_key or str(uuid.uuid4())
    return Call("POST", path, parse, json=body, headers={"Idempotency-Key": key})


def _with_key(call: Call[T], idempotency_key: str | None) -> Call[T]:
    """``call`` with an Idempotency-Key, for the non-POST writes the server deduplicates."""
    key = idempotency_key or str(uuid.uuid4())
    return Call(
        call.method,
        call.path,
        call.parse,
        params=call.params,
        json=call.json,
        content=call.content,
        headers={**call.headers, "Idempotency-Key": key},
    )


def _present(**fields: Any) -> dict[str, Any]:
    """The fields the caller gave: the server applies its defaults to the rest."""
    return {name: value for name, value in fields.items() if value is not None}


def _nothing(_data: Any) -> None:
    return None


def customer_path(customer_type: str, customer_id: str) -> str:
    return f"/v1/customers/{quote(customer_type, safe='')}/{quote(customer_id, safe='')}"


def _segment(value: str) -> str:
    return quote(value, safe="")


def upsert_customer(
    customer_type: str,
    customer_id: str,
    *,
    email: str | None,
    name: str | None,
    metadata: Mapping[str, str] | None,
) -> Call[CustomerOut]:
    # Fields left out are kept by the server, so only send what the caller gave.
    body: dict[str, Any] = {}
    if email is not None:
        body["email"] = email
    if name is not None:
        body["name"] = name
    if metadata is not None:
        body["metadata"] = dict(metadata)
    return Call(
        "PUT", customer_path(customer_type, customer_id), CustomerOut.model_validate, json=body
    )


def get_customer(customer_type: str, customer_id: str) -> Call[CustomerOut]:
    return Call("GET", customer_path(customer_type, customer_id), CustomerOut.model_validate)


def grant(
    customer_type: str,
    customer_id: str,
    product_id: str | None,
    *,
    product: Mapping[str, Any] | None,
    quantity: int,
    idempotency_key: str | None,
) -> Call[GrantResult]:
    body: dict[str, Any] = {"quantity": quantity}
    if product_id is not None:
        body["product_id"] = product_id
    if product is not None:
        body["product"] = dict(product)
    path = customer_path(customer_type, customer_id) + "/products"
    return _post(path, GrantResult.model_validate, body, idempotency_key)


def revoke(
    customer_type: str, customer_id: str, product_id: str, *, idempotency_key: str | None = None
) -> Call[ProductList]:
    # Keyed like cancel: a DELETE retried after a 5xx replays the first answer instead of
    # answering 404 for the product the first attempt already revoked.
    path = f"{customer_path(customer_type, customer_id)}/products/{_segment(product_id)}"
    return _with_key(Call("DELETE", path, ProductList.model_validate), idempotency_key)


def products(customer_type: str, customer_id: str) -> Call[ProductList]:
    path = customer_path(customer_type, customer_id) + "/products"
    return Call("GET", path, ProductList.model_validate)


def entitlements(customer_type: str, customer_id: str) -> Call[EntitlementsOut]:
    path = customer_path(customer_type, customer_id) + "/entitlements"
    return Call("GET", path, EntitlementsOut.model_validate)


def check(
    customer_type: str,
    customer_id: str,
    *,
    feature: str | None,
    plan: str | None,
    item: str | None,
    quantity: int,
) -> Call[CheckOut]:
    params: Params = {}
    if feature is not None:
        params["feature"] = feature
    if plan is not None:
        params["plan"] = plan
    if item is not None:
        params["item"] = item
        params["quantity"] = quantity
    path = customer_path(customer_type, customer_id) + "/check"
    return Call("GET", path, _check_result, params=params)


def has(
    customer_type: str, customer_id: str, *, feature: str | None, plan: str | None
) -> Call[bool]:
    if (feature is None) == (plan is None):
        raise ValueError("has() takes exactly one of feature= or plan=")
    call = check(customer_type, customer_id, feature=feature, plan=plan, item=None, quantity=1)
    return Call("GET", call.path, _allowed, params=call.params)


def _allowed(data: Any) -> bool:
    return _check_result(data).allowed


class UnknownNameWarning(UserWarning):
    """A check named a feature, plan or item the server's catalog does not define: a typo, or
    one since removed. The check answers ``allowed=False``; this says why, once per name."""


# Names already warned about in this process: a check runs per request, the warning once.
_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _check_result(data: Any) -> CheckOut:
    result = CheckOut.model_validate(data)
    reason = result.reason or ""
    if reason.startswith("unknown_"):
        kind = reason.removeprefix("unknown_")
        name = getattr(result, kind, None) if kind in ("feature", "plan", "item") else None
        if isinstance(name, str):
            with _warned_lock:
                first = (kind, name) not in _warned
                _warned.add((kind, name))
            if first:
                warnings.warn(
                    f"plangate: the catalog defines no {kind} {name!r}; checks of it answer "
                    "allowed=False (a typo, or removed from the catalog?)",
                    UnknownNameWarning,
                    stacklevel=2,
                )
    return result


def item(customer_type: str, customer_id: str, item_id: str) -> Call[ItemOut]:
    path = f"{customer_path(customer_type, customer_id)}/items/{_segment(item_id)}"
    return Call("GET", path, ItemOut.model_validate)


def change_item(
    customer_type: str,
    customer_id: str,
    item_id: str,
    delta: int,
    *,
    expires_at: datetime | None,
    description: str | None,
    allow_negative: bool,
    idempotency_key: str | None,
) -> Call[ItemChanged]:
    body: dict[str, Any] = {"delta": delta, "allow_negative": allow_negative}
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    if description is not None:
        body["description"] = description
    path = f"{customer_path(customer_type, customer_id)}/items/{_segment(item_id)}/changes"
    return _post(path, ItemChanged.model_validate, body, idempotency_key)


def consume(
    customer_type: str,
    customer_id: str,
    item_id: str,
    quantity: int,
    *,
    description: str | None,
    idempotency_key: str | None,
) -> Call[ItemChanged]:
    body: dict[str, Any] = {"quantity": quantity}
    if description is not None:
        body["description"] = description
    path = f"{customer_path(customer_type, customer_id)}/items/{_segment(item_id)}/consume"
    return _post(path, ItemChanged.model_validate, body, idempotency_key)


def apply_catalog(catalog: str | Mapping[str, Any]) -> Call[CatalogApplied]:
    if isinstance(catalog, str):
        content, content_type = catalog.encode(), "application/toml"
    else:
        content, content_type = json.dumps(dict(catalog)).encode(), "application/json"
    return Call(
        "PUT",
        "/v1/catalog",
        CatalogApplied.model_validate,
        content=content,
        headers={"Content-Type": content_type},
    )


def get_catalog() -> Call[CatalogOut]:
    return Call("GET", "/v1/catalog", CatalogOut.model_validate)


def entitlement_token(
    customer_type: str | None, customer_id: str | None, team_id: str | None = None
) -> Call[EntitlementToken]:
    """A server names the customer; a client token asks for itself or for ``team_id``."""
    params: Params = {}
    if customer_type is not None and customer_id is not None:
        params = {"customer_type": customer_type, "customer_id": customer_id}
    elif (customer_type is None) != (customer_id is None):
        raise ValueError("give both customer_type and customer_id, or neither")
    if team_id is not None:
        params["team_id"] = team_id
    return Call("GET", "/v1/entitlement-token", EntitlementToken.model_validate, params=params)


def jwks() -> Call[dict[str, Any]]:
    return Call("GET", "/.well-known/jwks.json", _as_dict)


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


# --- checkout and purchases -----------------------------------------------------------------


def create_checkout(
    customer_type: str,
    customer_id: str,
    product_id: str,
    *,
    price_id: str | None,
    currency: str | None,
    quantity: int,
    success_url: str | None,
    cancel_url: str | None,
    idempotency_key: str | None,
    promotion_code: str | None = None,
    allow_promotion_codes: bool = False,
) -> Call[CheckoutSessionCreated]:
    body: dict[str, Any] = {
        "customer_type": customer_type,
        "customer_id": customer_id,
        "product_id": product_id,
        "quantity": quantity,
        **_present(
            price_id=price_id,
            currency=currency,
            success_url=success_url,
            cancel_url=cancel_url,
            promotion_code=promotion_code,
        ),
    }
    if allow_promotion_codes:
        body["allow_promotion_codes"] = True
    return _post(
        "/v1/checkout-sessions", CheckoutSessionCreated.model_validate, body, idempotency_key
    )


def get_checkout_session(session_id: str) -> Call[CheckoutSessionOut]:
    path = f"/v1/checkout-sessions/{_segment(session_id)}"
    return Call("GET", path, CheckoutSessionOut.model_validate)


def _switch_body(from_product_id: str, to_product_id: str, price_id: str | None) -> Any:
    return {
        "from_product_id": from_product_id,
        "to_product_id": to_product_id,
        **_present(price_id=price_id),
    }


def switch(
    customer_type: str,
    customer_id: str,
    from_product_id: str,
    to_product_id: str,
    *,
    price_id: str | None,
    idempotency_key: str | None,
) -> Call[PlanChangeOut]:
    body = _switch_body(from_product_id, to_product_id, price_id)
    path = customer_path(customer_type, customer_id) + "/products/switch"
    return _post(path, PlanChangeOut.model_validate, body, idempotency_key)


def switch_preview(
    customer_type: str,
    customer_id: str,
    from_product_id: str,
    to_product_id: str,
    *,
    price_id: str | None,
) -> Call[PlanChangePreviewOut]:
    body = _switch_body(from_product_id, to_product_id, price_id)
    path = customer_path(customer_type, customer_id) + "/products/switch/preview"
    return Call("POST", path, PlanChangePreviewOut.model_validate, json=body)


def cancel(
    customer_type: str,
    customer_id: str,
    product_id: str,
    *,
    immediately: bool,
    idempotency_key: str | None,
) -> Call[CancelledOut]:
    # The server records the answer under the key, so a DELETE retried after a 5xx or 429
    # replays the first cancellation instead of making a second Stripe write.
    path = f"{customer_path(customer_type, customer_id)}/products/{_segment(product_id)}"
    params: Params = {"immediately": "true"} if immediately else {}
    call = Call("DELETE", path, CancelledOut.model_validate, params=params)
    return _with_key(call, idempotency_key)


def resume(
    customer_type: str, customer_id: str, product_id: str, *, idempotency_key: str | None
) -> Call[CancelledOut]:
    path = f"{customer_path(customer_type, customer_id)}/products/{_segment(product_id)}/resume"
    return _post(path, CancelledOut.model_validate, None, idempotency_key)
