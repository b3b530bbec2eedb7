"""Checkout sessions: creation, completion from the hosted page, expiry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from . import checkout_tax, scheduler
from . import subscriptions as subs
from .charges import confirm_payment_intent, new_payment_intent
from .discounts import (
    Redemption,
    add_promotion_code,
    parse_discounts,
    price_totals,
    redeem,
)
from .expansion import INCLUDABLE
from .payments import (
    CARDS,
    attach_payment_method,
    new_card_method,
    new_setup_intent,
    normalise_number,
    require_card_only,
)
from .router import PAGE, ApiRequest, Router
from .tiers import due_now, is_metered
from .wire import (
    Obj,
    StripeError,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_int,
    get_list,
    get_str,
    invalid,
    list_object,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
_DAY = 86400


def _line_items(sb: Sandbox, p: Mapping[str, object], mode: str) -> list[tuple[Obj, int]]:
    items = get_list(p, "line_items")
    if mode != "setup" and not items:
        raise invalid("You must provide at least one line item.", "line_items",
                      code="parameter_missing")
    out = []
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise invalid("Invalid line_items: must be a list of objects", f"line_items[{i}]")
        price_id = get_str(it, "price", required=True, param=f"line_items[{i}][price]") or ""
        price = sb.get("price", price_id, param=f"line_items[{i}][price]")
        qty = get_int(it, "quantity", param=f"line_items[{i}][quantity]", minimum=1) or 1
        if is_metered(price):
            if "quantity" in it:
                raise invalid("Quantity should not be specified where usage_type is "
                              f"`metered`. Remove quantity from `line_items[{i}]`.",
                              f"line_items[{i}][quantity]")
            qty = 0
        if mode == "payment" and price["type"] == "recurring":
            raise invalid("You specified `payment` mode but passed a recurring price. Either "
                          "switch to `subscription` mode or use only one-time prices.",
                          f"line_items[{i}][price]")
        out.append((price, qty))
    if mode == "subscription" and not any(p["type"] == "recurring" for p, _ in out):
        raise invalid("You must provide at least one recurring price in `subscription` mode "
                      "when using prices.", "line_items")
    if len({p["currency"] for p, _ in out}) > 1:
        raise invalid("All prices must use the same currency.", "line_items")
    return out


@router.post("/v1/checkout/sessions", "checkout.SessionCreateParams",
              (
    "allow_promotion_codes", "billing_address_collection", "cancel_url", "client_reference_id",
    "currency", "customer", "customer_creation", "customer_email", "discounts.coupon",
    "discounts.promotion_code", "expires_at",
    "line_items.price", "line_items.quantity", "locale", "metadata", "mode",
    "payment_intent_data.metadata", "payment_method_collection", "allowed_payment_method_types",
    "subscription_data.description", "subscription_data.metadata",
    "subscription_data.trial_period_days", "success_url", *checkout_tax.IMPLEMENTS))
def create_session(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    mode = get_enum(p, "mode", ("payment", "subscription", "setup"), required=True) or ""
    require_card_only(p)
    success_url = get_str(p, "success_url", required=True)
    cus_id = get_str(p, "customer")
    customer = sb.get("customer", cus_id, param="customer") if cus_id else None
    email = get_str(p, "customer_email")
    if customer is not None and email is not None:
        raise invalid("You may only specify one of these parameters: customer, "
                      "customer_email.", "customer_email")
    items = _line_items(sb, p, mode)
    sub_data = get_dict(p, "subscription_data")
    trial_days = get_int(sub_data, "trial_period_days", param="subscription_data"
                         "[trial_period_days]", minimum=1)
    now = sb.now(customer)
    expires_at = get_int(p, "expires_at") or now + _DAY
    if not now + 1800 <= expires_at <= now + _DAY:
        raise invalid("The `expires_at` timestamp must be between 30 minutes and 24 hours "
                      "from Checkout Session creation.", "expires_at")
    currency = items[0][0]["currency"] if items else get_str(p, "currency")
    subtotal = sum(due_now(pr, q) for pr, q in items)
    allow_codes = get_bool(p, "allow_promotion_codes")
    if allow_codes and "discounts" in p:
        raise invalid("You may only specify one of these parameters: allow_promotion_codes, "
                      "discounts.", "allow_promotion_codes")
    redemptions = parse_discounts(sb, get_list(p, "discounts"), customer=customer,
                                  currency=currency, subtotal=subtotal, most=1)
    cs_id = new_id("cs_test", 58)
    cs: Obj = {
        "id": cs_id, "object": "checkout.session", "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": allow_codes,
        "amount_subtotal": subtotal if items else None,
        "amount_total": subtotal if items else None,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None,
                          "status": None},
        "billing_address_collection": get_str(p, "billing_address_collection"),
        "cancel_url": get_str(p, "cancel_url"),
        "client_reference_id": get_str(p, "client_reference_id"), "client_secret": None,
        "collected_information": None, "consent": None, "consent_collection": None,
        "created": now, "currency": currency, "currency_conversion": None,
        "custom_fields": [], "custom_text": {"after_submit": None, "shipping_address": None,
                                             "submit": None,
                                             "terms_of_service_acceptance": None},
        "customer": cus_id, "customer_account": None,
        "customer_creation": None if customer else (
            get_enum(p, "customer_creation", ("always", "if_required")) or "if_required"),
        "customer_details": None, "customer_email": email,
        "discounts": [r.wire() for r in redemptions],
        "expires_at": expires_at, "integration_identifier": None, "invoice": None,
        "invoice_creation": None, "livemode": False, "locale": get_str(p, "locale"),
        "managed_payments": None, "metadata": {}, "mode": mode, "origin_context": None,
        "payment_intent": None, "payment_link": None,
        "payment_method_collection": get_enum(p, "payment_method_collection",
                                              ("always", "if_required")) or "always",
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": ["card"], "payment_status": "unpaid", "permissions": None,
        "phone_number_collection": {"enabled": False}, "recovered_from": None,
        "saved_payment_method_options": None, "setup_intent": None,
        "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [],
        "status": "open", "submit_type": None, "subscription": None,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
        if items else None,
        "ui_mode": "hosted", "url": f"{sb.base_url}/checkout/{cs_id}", "wallet_options": None,
        "_items": [(pr["id"], q) for pr, q in items],
        "_subscription_data": {"metadata": get_dict(sub_data, "metadata"),
                               "trial_period_days": trial_days,
                               "description": get_str(sub_data, "description")},
        "_payment_intent_data": get_dict(p, "payment_intent_data"),
    }
    apply_metadata(cs, p)
    price_totals(sb, cs)
    checkout_tax.configure(sb, cs, p, customer)
    sb.store.put(cs)
    return cs


@router.get("/v1/checkout/sessions/{id}", "checkout.SessionRetrieveParams")
def retrieve_session(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("checkout.session", id, "checkout.session")


@router.get("/v1/checkout/sessions", "checkout.SessionListParams",
              (*PAGE, "customer", "payment_intent", "status", "subscription"))
def list_sessions(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    filters = {k: get_str(p, k) for k in ("customer", "payment_intent", "subscription",
                                          "status")}
    items = [s for s in sb.store.all("checkout.session")
             if all(v is None or s[k] == v for k, v in filters.items())]
    return paginate(items, p, "/v1/checkout/sessions")


@router.get("/v1/checkout/sessions/{id}/line_items", "checkout.SessionLineItemListParams", PAGE)
def session_line_items(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    cs = sb.get("checkout.session", id, "checkout.session")
    return paginate(_items_of(sb, cs)["data"], req.params,
                    f"/v1/checkout/sessions/{id}/line_items")


def _items_of(sb: Sandbox, cs: Obj) -> Obj:
    data = []
    taken = cs.get("_line_discounts") or [0] * len(cs.get("_items", []))
    taxes = cs.get("_line_taxes") or [[0, 0]] * len(cs.get("_items", []))
    for (price_id, qty), off, (tax, added) in zip(cs.get("_items", []), taken, taxes,
                                                   strict=True):
        price = sb.get("price", price_id)
        product = sb.store.get("product", price["product"]) or {}
        amount = due_now(price, int(qty))
        off = 0 if cs["_subscription_data"].get("trial_period_days") else off
        data.append({"id": "li_" + price_id[6:] + cs["id"][-6:], "object": "item",
                     "amount_discount": off, "amount_subtotal": amount, "amount_tax": tax,
                     "amount_total": amount - off + added, "currency": price["currency"],
                     "description": product.get("name"), "price": sb.snapshot(price),
                     "quantity": qty})
    return list_object(data, f"/v1/checkout/sessions/{cs['id']}/line_items")


INCLUDABLE[("checkout.session", "line_items")] = _items_of


def expire(sb: Sandbox, cs: Obj) -> None:
    if cs["status"] != "open":
        raise invalid(f"Only Checkout Sessions with a status in [\"open\"] can be expired. "
                      f"This Checkout Session has a status of \"{cs['status']}\".")
    cs["status"] = "expired"
    cs["url"] = None
    sb.store.put(cs)
    sb.emit("checkout.session.expired", cs)


@router.post("/v1/checkout/sessions/{id}/expire", "checkout.SessionExpireParams")
def expire_session(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    cs = sb.get("checkout.session", id, "checkout.session")
    expire(sb, cs)
    return cs


@scheduler.source("checkout.session", scheduler.customer_clock, scheduler.customer_of)
def session_work(sb: Sandbox, cs: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    if cs["status"] == "open":
        yield int(cs["expires_at"]), 6, partial(_expire_at, sb, cs)


def _expire_at(sb: Sandbox, cs: Obj, at: int) -> None:
    expire(sb, cs)



# --- completion (the hosted page's form) --------------------------------------------------------


@dataclass
class Submission:
    email: str | None
    name: str | None
    card_number: str | None
    three_d_secure: str | None  # "complete" | "fail" | None (not asked yet)
    promotion_code: str | None = None  # typed into the page (`allow_promotion_codes`)
    fields: Mapping[str, str] = field(default_factory=dict)  # address and tax id fields


class NeedsAuthentication(Exception):
    """The card asks for 3DS; the page shows the challenge, then posts again."""


def needs_card(sb: Sandbox, cs: Obj) -> bool:
    trial = cs["_subscription_data"].get("trial_period_days")
    return not (cs["mode"] == "subscription" and trial
                and cs["payment_method_collection"] == "if_required")


def complete(sb: Sandbox, cs: Obj, form: Submission) -> str:
    """Pay or set up as the customer did on the page; returns where to send the browser.
    Raises StripeError (shown on the page, session stays open) or NeedsAuthentication."""
    if cs["status"] != "open":
        raise invalid("This Checkout Session is no longer available.")
    if form.promotion_code and cs["allow_promotion_codes"]:
        add_promotion_code(sb, cs, form.promotion_code)
    redemptions = _recheck_discounts(sb, cs)
    collected = checkout_tax.collect(sb, cs, form.fields)
    card = None
    if needs_card(sb, cs):
        number = normalise_number(form.card_number or "")
        card = CARDS.get(number)
        if card is None:
            raise StripeError(402, "card_error", "Your card number is incorrect.",
                              code="incorrect_number")
        # Payment mode records a failed charge below; the other modes refuse up front.
        reason = card.decline or (card.charge_decline if cs["mode"] == "subscription" else None)
        if reason and cs["mode"] != "payment":
            from .payments import decline_error

            raise decline_error(reason)
        if card.authentication != "none" and form.three_d_secure != "complete":
            if form.three_d_secure == "fail":
                raise StripeError(402, "card_error", "We are unable to authenticate your "
                                  "payment method. Please choose a different payment method "
                                  "and try again.", code="payment_intent_authentication_failure")
            raise NeedsAuthentication()
    email = cs["customer_email"] or form.email
    customer = sb.store.get("customer", cs["customer"]) if cs["customer"] else None
    created = customer is None
    if customer is None and (cs["mode"] != "payment" or cs["customer_creation"] == "always"):
        from .catalog import create_customer

        fake = ApiRequest("POST", "/v1/customers", {"email": email or "", "name":
                                                    form.name or ""}, sb.base_url, "")
        customer = create_customer(sb, fake)
    checkout_tax.save(sb, cs, customer, collected, created)
    pm = new_card_method(sb, form.card_number or "", billing={"email": email,
                                                              "name": form.name},
                         clock_of=customer) if card else None
    if pm is not None and customer is not None:
        attach_payment_method(sb, pm["id"], customer, on_session_authenticated=True)
    if cs["mode"] == "subscription":
        assert customer is not None
        _start_subscription(sb, cs, customer, pm, redemptions)
    elif cs["mode"] == "payment":
        _pay(sb, cs, customer, pm)
        for r in redemptions:
            redeem(sb, r, customer, sb.now(customer), checkout_session=cs["id"])
    else:
        seti = new_setup_intent(sb, customer)
        assert pm is not None
        seti.update(payment_method=pm["id"], status="succeeded")
        pm["_setup"] = True
        sb.store.put(seti)
        sb.emit("setup_intent.succeeded", seti)
        cs["setup_intent"] = seti["id"]
    cs["status"] = "complete"
    cs["url"] = None
    cs["customer"] = customer["id"] if customer else None
    cs["customer_details"] = {"email": email, "individual_name": None, "name": form.name,
                              "phone": None, **cs.pop("_collected")}
    if cs["payment_status"] == "unpaid":
        cs["payment_status"] = "no_payment_required" if cs["mode"] == "setup" else "paid"
    sb.store.put(cs)
    sb.emit("checkout.session.completed", cs)
    return str(cs["success_url"]).replace("{CHECKOUT_SESSION_ID}", cs["id"])


def _recheck_discounts(sb: Sandbox, cs: Obj) -> list[Redemption]:
    """The session's discounts, checked again: a code may have been used up meanwhile."""
    customer = sb.store.get("customer", cs["customer"]) if cs["customer"] else None
    entries = [{"promotion_code": d["promotion_code"]} if d["promotion_code"]
               else {"coupon": d["coupon"]} for d in cs["discounts"]]
    return parse_discounts(sb, entries, customer=customer, currency=cs["currency"],
                           subtotal=cs["amount_subtotal"])


def _start_subscription(sb: Sandbox, cs: Obj, customer: Obj, pm: Obj | None,
                        redemptions: list[Redemption]) -> None:
    data = cs["_subscription_data"]
    prices: list[tuple[Obj, int, Obj]] = [(sb.get("price", pid), int(q), {})
                                          for pid, q in cs["_items"]]
    trial = data.get("trial_period_days")
    now = sb.now(customer)
    sub = subs.start(
        sb, customer, prices, trial_end=now + int(trial) * _DAY if trial else None,
        default_pm=pm["id"] if pm else None, metadata=data.get("metadata") or {},
        off_session=False, authenticated=True, description=data.get("description"),
        discounts=redemptions, checkout_session=cs["id"], tax=checkout_tax.subscription_tax(cs),
    )
    cs["subscription"] = sub["id"]
    cs["invoice"] = sub["latest_invoice"]
    if trial:
        cs["payment_status"] = "no_payment_required"


def _pay(sb: Sandbox, cs: Obj, customer: Obj | None, pm: Obj | None) -> None:
    assert pm is not None
    pi = sb.store.get("payment_intent", cs["payment_intent"] or "")
    if pi is None:
        pi = new_payment_intent(sb, int(cs["amount_total"]), cs["currency"], customer)
        apply_metadata(pi, cs["_payment_intent_data"])
        cs["payment_intent"] = pi["id"]
        sb.store.put(cs)
    pi["payment_method"] = pm["id"]
    sb.store.put(pi)
    err = confirm_payment_intent(sb, pi, off_session=False, authenticated=True)
    if err is not None:
        raise err
