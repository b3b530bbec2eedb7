"""A catalog and helpers for line-conflict tests: a plan whose credits never expire (so a
second grant would show as 200), an add-on, a server-only plan and a team plan."""

from __future__ import annotations

from typing import Any

from plangate.gateways.stripe_client import lookup_key
from plangate.sandbox import pay_checkout_session
from tests.e2e.e2e_harness import Stack

CATALOG = """
[items.credits]
name = "Credits"

[lines.plan]
name = "Plan"
customer_type = "user"

[lines.team_plan]
name = "Team plan"
customer_type = "team"

[products.free]
name = "Free"
customer_type = "user"
line = "plan"
default = true

[products.pro]
name = "Pro"
customer_type = "user"
line = "plan"
items.credits = { quantity = 100, expires = "never" }

[products.pro.prices.monthly]
amounts = { usd = "20.00" }
interval = "month"

[products.max]
name = "Max"
customer_type = "user"
line = "plan"
items.credits = { quantity = 1000, expires = "never" }

[products.max.prices.monthly]
amounts = { usd = "50.00" }
interval = "month"

[products.starter]
name = "Starter"
customer_type = "user"
line = "plan"
trial_days = 7

[products.starter.prices.monthly]
amounts = { usd = "10.00" }
interval = "month"

[products.boost]
name = "Boost"
customer_type = "user"
add_on_to = ["pro", "max"]

[products.boost.prices.monthly]
amounts = { usd = "5.00" }
interval = "month"

[products.vip]
name = "VIP"
customer_type = "user"
line = "plan"
server_only = true
items.credits = { quantity = 9000, expires = "never" }

[products.vip.prices.monthly]
amounts = { usd = "900.00" }
interval = "month"

[products.team]
name = "Team"
customer_type = "team"
line = "team_plan"

[products.team.prices.monthly]
amounts = { usd = "99.00" }
interval = "month"
"""


def stripe_price(stack: Stack, product_id: str, price_id: str = "monthly") -> str:
    found = stack.stripe.v1.prices.list(
        {"lookup_keys": [lookup_key(product_id, price_id, "usd")], "limit": 1}
    )
    assert found.data, f"no Stripe price for {product_id}"
    return str(found.data[0].id)


def second_tab(
    stack: Stack,
    customer_id: str,
    product_id: str,
    *,
    metadata: dict[str, str] | None = None,
    trial_days: int | None = None,
) -> dict[str, Any]:
    """A Checkout Session for the customer opened at Stripe itself, the way a second browser
    tab (or a payment link) does, with the metadata plangate puts on its own sessions."""
    meta = metadata or {
        "customer_type": "user",
        "customer_id": customer_id,
        "product_id": product_id,
        "price_id": "monthly",
    }
    session = stack.stripe.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": stack.stripe_customer(customer_id, meta["customer_type"]),
            "line_items": [{"price": stripe_price(stack, product_id), "quantity": 1}],
            "success_url": stack.url + "/done",
            "metadata": meta,
            "subscription_data": {"metadata": meta, "trial_period_days": trial_days},
        }
    )
    return {"id": session.id, "url": session.url}


def pay(session: dict[str, Any]) -> None:
    pay_checkout_session(str(session["url"]))


def subscription_of(stack: Stack, session: dict[str, Any]) -> str:
    """The subscription a paid Checkout Session started."""
    found = stack.stripe.v1.checkout.sessions.retrieve(str(session["id"]))
    assert found.subscription, "the checkout session started no subscription"
    sub = found.subscription
    return sub if isinstance(sub, str) else str(sub.id)
