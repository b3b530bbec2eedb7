"""The Entitlements API: features, the features attached to products, and a customer's
active entitlements.

A customer is entitled to every active feature attached to the product of an item of one of
its subscriptions that is `active`, `trialing` or `past_due`. The active entitlements are
worked out again after every subscription event and every change of a product's features or
a feature's `active`; when the set changed, the customer's
`entitlements.active_entitlement_summary.updated` event is sent (an entitlement keeps its id
while it lasts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .router import PAGE, ApiRequest, Router
from .store import newest_first
from .wire import Obj, apply_metadata, get_bool, get_str, invalid, new_id, paginate

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()

GRANTING = ("active", "trialing", "past_due")
FEATURE = "entitlements.feature"
ACTIVE = "entitlements.active_entitlement"
SUMMARY_EVENT = "entitlements.active_entitlement_summary.updated"


# --- features ------------------------------------------------------------------------------------


def _name(raw: str | None, param: str = "name") -> str:
    if raw is None or not raw.strip():
        raise invalid(f"Missing required param: {param}.", param, code="parameter_missing")
    if len(raw) > 80:
        raise invalid(f"Invalid {param}: must be at most 80 characters", param)
    return raw


@router.post("/v1/entitlements/features", "entitlements.FeatureCreateParams",
             ("lookup_key", "metadata", "name"))
def create_feature(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    name = _name(get_str(p, "name"))
    lookup_key = _name(get_str(p, "lookup_key"), "lookup_key")
    if any(f["lookup_key"] == lookup_key for f in sb.store.all(FEATURE)):
        raise invalid(f"A feature with the lookup_key '{lookup_key}' already exists.",
                      "lookup_key")
    feature: Obj = {"id": new_id("feat"), "object": FEATURE, "active": True, "livemode": False,
                    "lookup_key": lookup_key, "metadata": {}, "name": name}
    apply_metadata(feature, p)
    sb.store.put(feature)
    return feature


@router.get("/v1/entitlements/features/{id}", "entitlements.FeatureRetrieveParams")
def retrieve_feature(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get(FEATURE, id, "feature")


@router.post("/v1/entitlements/features/{id}", "entitlements.FeatureUpdateParams",
             ("active", "metadata", "name"))
def update_feature(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    feature = sb.get(FEATURE, id, "feature")
    p = req.params
    if "name" in p:
        feature["name"] = _name(get_str(p, "name"))
    active = get_bool(p, "active")
    apply_metadata(feature, p)
    changed = active is not None and active != feature["active"]
    if active is not None:
        feature["active"] = active
    sb.store.put(feature)
    if changed:
        for customer in _customers_of_products(sb, _products_with(sb, id)):
            refresh(sb, customer)
    return feature


@router.get("/v1/entitlements/features", "entitlements.FeatureListParams",
            (*PAGE, "archived", "lookup_key"))
def list_features(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    archived = bool(get_bool(p, "archived"))
    lookup_key = get_str(p, "lookup_key")
    found = [f for f in sb.store.all(FEATURE) if f["active"] is not archived
             and (lookup_key is None or f["lookup_key"] == lookup_key)]
    return paginate(found, p, "/v1/entitlements/features")


# --- product features ----------------------------------------------------------------------------


def _product_feature_view(sb: Sandbox, pf: Obj) -> Obj:
    """A product feature shows its feature as it is now."""
    return {**pf, "entitlement_feature": sb.snapshot(sb.get(FEATURE, pf["_feature"]))}


def _attached(sb: Sandbox, product_id: str) -> list[Obj]:
    return [pf for pf in sb.store.all("product_feature") if pf["_product"] == product_id]


@router.post("/v1/products/{id}/features", "ProductFeatureCreateParams",
             ("entitlement_feature",))
def attach_feature(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    product = sb.get("product", id)
    feature_id = get_str(req.params, "entitlement_feature", required=True) or ""
    feature = sb.get(FEATURE, feature_id, "feature", "entitlement_feature")
    if not feature["active"]:
        raise invalid("An archived feature cannot be attached to a product.",
                      "entitlement_feature")
    if any(pf["_feature"] == feature_id for pf in _attached(sb, id)):
        raise invalid(f"The feature {feature_id} is already attached to the product {id}.",
                      "entitlement_feature")
    pf: Obj = {"id": new_id("prodft"), "object": "product_feature", "livemode": False,
               "_product": product["id"], "_feature": feature_id}
    sb.store.put(pf)
    for customer in _customers_of_products(sb, {id}):
        refresh(sb, customer)
    return _product_feature_view(sb, pf)


def _product_feature(sb: Sandbox, product_id: str, id_: str) -> Obj:
    sb.get("product", product_id)
    pf = sb.get("product_feature", id_, "product feature")
    if pf["_product"] != product_id:
        raise invalid(f"No such product feature: '{id_}'", "id", code="resource_missing")
    return pf


@router.get("/v1/products/{product}/features/{id}", "ProductFeatureRetrieveParams")
def retrieve_product_feature(sb: Sandbox, req: ApiRequest, product: str, id: str) -> Obj:
    return _product_feature_view(sb, _product_feature(sb, product, id))


@router.delete("/v1/products/{product}/features/{id}", "ProductFeatureDeleteParams")
def detach_feature(sb: Sandbox, req: ApiRequest, product: str, id: str) -> Obj:
    _product_feature(sb, product, id)
    sb.store.remove("product_feature", id)
    for customer in _customers_of_products(sb, {product}):
        refresh(sb, customer)
    return {"id": id, "object": "product_feature", "deleted": True}


@router.get("/v1/products/{id}/features", "ProductFeatureListParams", PAGE)
def list_product_features(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    sb.get("product", id)
    views = [_product_feature_view(sb, pf) for pf in _attached(sb, id)]
    return paginate(views, req.params, f"/v1/products/{id}/features")


# --- active entitlements -------------------------------------------------------------------------


@router.get("/v1/entitlements/active_entitlements", "entitlements.ActiveEntitlementListParams",
            (*PAGE, "customer"))
def list_active_entitlements(sb: Sandbox, req: ApiRequest) -> Obj:
    cus_id = get_str(req.params, "customer", required=True) or ""
    sb.get("customer", cus_id, param="customer")
    return paginate(_active_of(sb, cus_id), req.params, "/v1/entitlements/active_entitlements")


@router.get("/v1/entitlements/active_entitlements/{id}",
            "entitlements.ActiveEntitlementRetrieveParams")
def retrieve_active_entitlement(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get(ACTIVE, id, "active entitlement")


def _active_of(sb: Sandbox, customer_id: str) -> list[Obj]:
    return newest_first([e for e in sb.store.values(ACTIVE) if e["_customer"] == customer_id])


def _products_with(sb: Sandbox, feature_id: str) -> set[str]:
    return {pf["_product"] for pf in sb.store.all("product_feature")
            if pf["_feature"] == feature_id}


def _customers_of_products(sb: Sandbox, products: set[str]) -> list[str]:
    found = {str(s["customer"]) for s in sb.store.all("subscription")
             for item in s["items"]["data"] if item["price"]["product"] in products}
    found |= {str(e["_customer"]) for e in sb.store.all(ACTIVE)}
    return sorted(found)


def _granted(sb: Sandbox, customer_id: str) -> list[str]:
    """The features the customer's subscriptions grant, in the order first met."""
    subs = newest_first([s for s in sb.store.values("subscription")
                         if s["customer"] == customer_id and s["status"] in GRANTING])
    products = [item["price"]["product"] for s in subs for item in s["items"]["data"]]
    attached = sb.store.all("product_feature")
    features: list[str] = []
    for product in products:
        for pf in reversed(attached):  # oldest attachment first
            feature = sb.store.get(FEATURE, pf["_feature"])
            if (pf["_product"] == product and feature is not None and feature["active"]
                    and feature["id"] not in features):
                features.append(feature["id"])
    return features


def summary(sb: Sandbox, customer_id: str) -> Obj:
    entries = [sb.snapshot(e) for e in _active_of(sb, customer_id)]
    return {"object": "entitlements.active_entitlement_summary", "customer": customer_id,
            "entitlements": {"object": "list", "data": entries, "has_more": False,
                             "url": "/v1/entitlements/active_entitlements"},
            "livemode": False}


def refresh(sb: Sandbox, customer_id: str) -> None:
    """Bring the customer's active entitlements up to date; announce a change."""
    if sb.store.get("customer", customer_id) is None:
        return
    if not sb.store.any("product_feature") and not sb.store.any(ACTIVE):
        return  # no features anywhere: nothing to work out on every subscription event
    wanted = _granted(sb, customer_id)
    current = {e["_feature"]: e for e in _active_of(sb, customer_id)}
    if set(wanted) == set(current):
        return
    before = summary(sb, customer_id)
    for feature_id, ent in current.items():
        if feature_id not in wanted:
            sb.store.remove(ACTIVE, ent["id"])
    for feature_id in wanted:
        if feature_id not in current:
            feature = sb.get(FEATURE, feature_id)
            sb.store.put({"id": new_id("ent"), "object": ACTIVE, "feature": feature_id,
                          "livemode": False, "lookup_key": feature["lookup_key"],
                          "_customer": customer_id, "_feature": feature_id})
    sb.emit(SUMMARY_EVENT, summary(sb, customer_id), before)
