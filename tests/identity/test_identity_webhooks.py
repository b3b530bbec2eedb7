"""Identity webhooks end to end: Clerk's user and organization events, signed here with the
Standard Webhooks scheme (as Svix signs them), sent over HTTP to plangate on the stripe
gateway with the sandbox, on both databases. Stripe's side is read through the SDK."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from plangate.services.identity_sync import secret_key, sign, verify
from tests.e2e.e2e_harness import Stack, start_stack
from tests.purchases.catalog import CATALOG

SECRET = "whsec_" + base64.b64encode(b"identity-webhooks-test-secret-32b").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"a-secret-the-provider-rotated-out").decode()
USER = "user_2NNEqL2nrIRdJ194ndJqAHwEfxC"
URL = "/v1/identity/webhooks"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = start_stack(
        database_url, catalog_text=CATALOG, settings_overrides={"identity_webhook_secret": SECRET}
    )
    yield running
    running.stop()


def user_updated(email: str, first: str, updated_at: int, user: str = USER) -> dict[str, Any]:
    """A Clerk ``user.updated`` event, trimmed to what plangate reads plus some it does not."""
    return {
        "object": "event",
        "type": "user.updated",
        "instance_id": "ins_2NNEqL2nrIRdJ194ndJqAHwEfxC",
        "timestamp": updated_at,
        "data": {
            "id": user,
            "object": "user",
            "email_addresses": [
                {"id": "idn_old", "object": "email_address", "email_address": "old@example.com"},
                {"id": "idn_new", "object": "email_address", "email_address": email},
            ],
            "primary_email_address_id": "idn_new",
            "first_name": first,
            "last_name": "Lovelace",
            "username": None,
            "last_sign_in_at": updated_at,
            "updated_at": updated_at,
        },
    }


def deliver(
    stack: Stack,
    event: dict[str, Any],
    message_id: str,
    *,
    secrets: tuple[str, ...] = (SECRET,),
    timestamp: int | None = None,
    svix_names: bool = False,
) -> httpx.Response:
    body = json.dumps(event).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    signature = " ".join(sign(secret_key(s), message_id, ts, body) for s in secrets)
    prefix = "svix" if svix_names else "webhook"
    headers = {
        f"{prefix}-id": message_id,
        f"{prefix}-timestamp": str(ts),
        f"{prefix}-signature": signature,
        "content-type": "application/json",
    }
    return stack.http.post(URL, content=body, headers=headers)


def stripe_email(stack: Stack, customer: str = USER) -> Any:
    return stack.stripe.v1.customers.retrieve(stack.stripe_customer(customer))


def plangate_customer(stack: Stack, customer: str = USER) -> dict[str, Any]:
    response = stack.http.get(f"/v1/customers/user/{customer}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_published_standard_webhooks_vector_verifies() -> None:
    body = b'{"test": 2432232314}'
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    message = verify(
        headers, body, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now=1614265330, tolerance=300
    )
    assert message.id == "msg_p5jXN8AQM9LWM0D4loKWxJek"


def test_user_updated_changes_the_stripe_customer_once(stack: Stack) -> None:
    stack.buy(USER, "basic")
    before = stripe_email(stack)

    first = deliver(stack, user_updated("ada@new.example", "Ada", 1_700_000_000_000), "msg_1")

    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "duplicate": False, "applied": True}
    after = stripe_email(stack)
    assert (after.email, after.name) == ("ada@new.example", "Ada Lovelace")
    assert after.email != before.email
    assert (plangate_customer(stack)["email"], plangate_customer(stack)["name"]) == (
        "ada@new.example",
        "Ada Lovelace",
    )

    # The same message again (a retry), even with another body under its id: nothing changes.
    again = deliver(stack, user_updated("eve@evil.example", "Eve", 1_700_000_000_500), "msg_1")
    assert again.json() == {"received": True, "duplicate": True, "applied": False}
    assert stripe_email(stack).email == "ada@new.example"

    # An older change delivered late is recorded, not applied; Svix's header names work too.
    late = deliver(
        stack, user_updated("ada@old.example", "Ada", 1_600_000_000_000), "msg_0", svix_names=True
    )
    assert late.json() == {"received": True, "duplicate": False, "applied": False}
    assert plangate_customer(stack)["email"] == "ada@new.example"

    # During a secret rotation the sender signs with both; one match is enough.
    rotated = deliver(
        stack,
        user_updated("ada@rotated.example", "Ada", 1_800_000_000_000),
        "msg_2",
        secrets=(OTHER_SECRET, SECRET),
    )
    assert rotated.json()["applied"] is True
    assert stripe_email(stack).email == "ada@rotated.example"


@pytest.mark.parametrize(
    "change, code",
    [
        ({"secrets": (OTHER_SECRET,)}, "signature_invalid"),
        ({"clock_offset": -301}, "timestamp_invalid"),
        ({"clock_offset": 400}, "timestamp_invalid"),
    ],
    ids=["wrong-secret", "too-old", "from-the-future"],
)
def test_bad_signatures_are_refused_and_change_nothing(
    stack: Stack, change: dict[str, Any], code: str
) -> None:
    stack.buy(USER, "basic")
    email = stripe_email(stack).email
    if "clock_offset" in change:
        change = {"timestamp": int(time.time()) + change["clock_offset"]}

    response = deliver(stack, user_updated("x@evil.example", "X", 1_900_000_000_000), "m", **change)

    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert stripe_email(stack).email == email
    # The refused message id was not recorded: the genuine delivery still applies.
    assert deliver(stack, user_updated("ok@example.com", "Ok", 1), "m").json()["applied"]


def test_missing_headers_and_a_tampered_body_are_refused(stack: Stack) -> None:
    unsigned = stack.http.post(URL, json=user_updated("x@example.com", "X", 1))
    assert unsigned.status_code == 400
    assert unsigned.json()["error"]["code"] == "signature_missing"
    body = json.dumps(user_updated("x@example.com", "X", 1)).encode()
    ts = int(time.time())
    headers = {
        "webhook-id": "msg_t",
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret_key(SECRET), "msg_t", ts, body),
    }
    tampered = stack.http.post(URL, content=body.replace(b"x@", b"y@"), headers=headers)
    assert tampered.json()["error"]["code"] == "signature_invalid"


def test_deleted_user_cancels_at_period_end_and_organization_updates_the_team(
    stack: Stack,
) -> None:
    stack.buy(USER, "basic")
    deleted = {"type": "user.deleted", "object": "event",
               "data": {"id": USER, "object": "user", "deleted": True}}

    response = deliver(stack, deleted, "msg_del")

    assert response.json() == {"received": True, "duplicate": False, "applied": True}
    assert stack.subscription_of(USER).cancel_at_period_end is True
    stack.settle()
    assert stack.products(USER)["basic"]["cancel_at_period_end"] is True
    assert stack.products(USER)["basic"]["grants_access"] is True  # paid until the period end

    team = "org_2NNEqL2nrIRdJ194ndJqAHwEfxC"
    stack.http.put(f"/v1/customers/team/{team}", json={"name": "Old name"})
    org = {"type": "organization.updated", "object": "event",
           "data": {"id": team, "object": "organization", "name": "Analytical Engines",
                    "slug": "engines", "updated_at": 1_700_000_000_000}}
    assert deliver(stack, org, "msg_org").json()["applied"] is True
    assert stack.http.get(f"/v1/customers/team/{team}").json()["name"] == "Analytical Engines"
    other = {"type": "session.created", "object": "event", "data": {"id": "sess_1"}}
    assert deliver(stack, other, "msg_sess").json() == {
        "received": True, "duplicate": False, "applied": False}
