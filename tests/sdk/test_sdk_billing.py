"""Checkout, purchases, billing, teams and customer sessions through the SDK, against the real
server on the test gateway (PLANGATE_GATEWAY=test: a checkout is complete at once and grants).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from plangate.api import schemas
from plangate.api.schemas import (
    CheckoutSessionCreated,
    CheckoutSessionOut,
    CustomerSessionOut,
    MemberOut,
)
from plangate_sdk import (
    AsyncClient,
    Client,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    billing_calls,
    models,
)

from .conftest import RunningServer


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def product_ids(data: list[models.OwnedProduct]) -> list[str]:
    return sorted(p.product_id for p in data)


class Recorder(httpx.BaseTransport):
    """Sends through a real transport and keeps every request, to look at the headers."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_refund_body_mirrors_the_servers() -> None:
    call = billing_calls.refund(
        payment_intent_id="pi_1",
        invoice_id="in_1",
        transaction_id="txn_1",
        amount=5,
        amount_decimal="0.05",
        currency="usd",
        reason="duplicate",
        idempotency_key=None,
    )
    schemas.RefundIn.model_validate(call.json)  # extra="forbid": no unknown field
    assert set(call.json) == set(schemas.RefundIn.model_fields)


# --- checkout -------------------------------------------------------------------------------


def test_checkout_completes_at_once_and_grants(client: Client, user_id: str) -> None:
    assert not client.has("user", user_id, feature="export")
    created = client.create_checkout("user", user_id, "pro", price_id="monthly")
    assert isinstance(created, CheckoutSessionCreated)
    assert created.url

    session = client.get_checkout_session(created.id)
    assert isinstance(session, CheckoutSessionOut)
    assert (session.status, session.fulfilled, session.product_id) == ("complete", True, "pro")
    assert (session.customer_type, session.customer_id) == ("user", user_id)

    assert client.has("user", user_id, feature="export")
    owned = client.products("user", user_id).data
    assert product_ids(owned) == ["pro"]
    assert owned[0].type == "subscription"


def test_checkout_takes_a_catalog_promotion_code(client: Client, user_id: str) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        client.create_checkout("user", user_id, "pro", promotion_code="NOPE")
    assert exc.value.code == "promotion_code_unknown" and exc.value.param == "promotion_code"
    with pytest.raises(InvalidRequestError) as exc:
        client.create_checkout(
            "user", user_id, "pro", promotion_code="LAUNCH20", allow_promotion_codes=True
        )
    assert exc.value.code == "promotion_code_conflict"
    assert client.products("user", user_id).data[0].product_id == "free"
    # Test mode charges nothing, so a valid code only has to be the catalog's.
    created = client.create_checkout("user", user_id, "pro", promotion_code="launch20")
    assert client.get_checkout_session(created.id).fulfilled


def test_checkout_idempotency_key_replays_the_session(client: Client, user_id: str) -> None:
    key = new_id("order")
    first = client.create_checkout("user", user_id, "credit_pack", idempotency_key=key)
    again = client.create_checkout("user", user_id, "credit_pack", idempotency_key=key)
    assert again.id == first.id


def test_checkout_retried_with_the_same_key_buys_once(client: Client, user_id: str) -> None:
    key = new_id("order")
    client.create_checkout("user", user_id, "credit_pack", idempotency_key=key)
    client.create_checkout("user", user_id, "credit_pack", idempotency_key=key)
    assert client.item("user", user_id, "credits").quantity == 100 + 1000
    assert len(client.customer("user", user_id).transactions().data) == 1


def test_every_write_sends_an_idempotency_key(plangate_server: RunningServer) -> None:
    account = plangate_server.base_url + "/account"
    recorder = Recorder()
    user = new_id("u")
    with Client(plangate_server.secret_key, plangate_server.base_url, transport=recorder) as sdk:
        sdk.create_checkout("user", user, "pro")
        sdk.switch("user", user, "pro", "pro", price_id="yearly")
        sdk.cancel("user", user, "pro")
        sdk.resume("user", user, "pro")
        sdk.portal_session("user", user, account)
        sdk.create_customer_session(user)
    keys = [r.headers.get("Idempotency-Key") for r in recorder.requests]
    assert all(keys), [(r.method, r.url.path) for r in recorder.requests]
    assert len(set(keys)) == len(keys)


def test_checkout_of_an_unknown_product(client: Client, user_id: str) -> None:
    with pytest.raises(NotFoundError):
        client.create_checkout("user", user_id, "platinum")


# --- switching, cancelling, resuming --------------------------------------------------------


def test_switch_upgrade_and_downgrade(client: Client, user_id: str) -> None:
    client.create_checkout("user", user_id, "pro", price_id="yearly")

    # Yearly at 199.00 to monthly at 19.99 is an upgrade by the yearly rate: now.
    preview = client.switch_preview("user", user_id, "pro", "pro", price_id="monthly")
    assert isinstance(preview, models.PlanChangePreviewOut) and preview.change == "upgrade"
    assert (preview.amount_due_now, preview.next_invoice) == (0, None)  # test mode bills nothing
    upgrade = client.switch("user", user_id, "pro", "pro", price_id="monthly")
    assert isinstance(upgrade, models.PlanChangeOut)
    assert (upgrade.change, upgrade.effective) == ("upgrade", "now")
    assert (upgrade.subscription_id, upgrade.invoice) == (None, None)  # test mode

    # A downgrade that changes the interval cannot wait for the period end.
    customer = client.customer("user", user_id)
    downgrade = customer.switch("pro", "pro", price_id="yearly")
    assert (downgrade.change, downgrade.effective) == ("downgrade", "now")

    with pytest.raises(NotFoundError) as excinfo:
        client.switch("user", user_id, "enterprise", "pro")
    assert excinfo.value.code == "product_not_owned"


def test_switch_downgrade_waits_for_the_period_end(client: Client, user_id: str) -> None:
    client.create_checkout("user", user_id, "enterprise")  # the server sells server-only too
    downgrade = client.customer("user", user_id).switch("enterprise", "pro")
    assert (downgrade.change, downgrade.effective) == ("downgrade", "period_end")
    assert downgrade.price_id == "yearly"  # the current interval
    assert downgrade.effective_at is not None
    owned = {p.product_id: p for p in client.products("user", user_id).data}
    assert owned["enterprise"].grants_access
    assert (owned["pro"].status, owned["pro"].grants_access) == ("scheduled", False)

    # Switching back drops the waiting downgrade.
    back = client.switch("user", user_id, "enterprise", "enterprise")
    assert back.change == "cancel_scheduled_change"
    assert product_ids(client.products("user", user_id).data) == ["enterprise"]


def test_cancel_at_period_end_then_resume(client: Client, user_id: str) -> None:
    client.create_checkout("user", user_id, "pro")

    cancelled = client.cancel("user", user_id, "pro")
    assert isinstance(cancelled, models.CancelledOut)
    assert cancelled.cancellation is not None
    assert cancelled.cancellation.product_id == "pro"
    assert cancelled.cancellation.immediately is False
    assert cancelled.cancellation.cancel_at_period_end is True
    pro = next(p for p in cancelled.data if p.product_id == "pro")
    assert pro.cancel_at_period_end and pro.grants_access
    assert client.has("user", user_id, feature="export")  # until the period end

    resumed = client.customer("user", user_id).resume("pro")
    assert resumed.cancellation is not None
    assert resumed.cancellation.cancel_at_period_end is False
    assert not next(p for p in resumed.data if p.product_id == "pro").cancel_at_period_end


def test_cancel_immediately_ends_access(client: Client, user_id: str) -> None:
    client.create_checkout("user", user_id, "pro")
    cancelled = client.customer("user", user_id).cancel("pro", immediately=True)
    assert cancelled.cancellation is not None and cancelled.cancellation.immediately
    assert product_ids(cancelled.data) == ["free"]
    assert not client.has("user", user_id, feature="export")
    with pytest.raises(NotFoundError):  # nothing left to resume: buy it again
        client.resume("user", user_id, "pro")


# --- billing --------------------------------------------------------------------------------


def test_billing_in_test_mode(client: Client, plangate_server: RunningServer, user_id: str) -> None:
    account = plangate_server.base_url + "/account"  # return URLs must be on an allowed origin
    client.create_checkout("user", user_id, "pro")
    customer = client.customer("user", user_id)

    details = customer.billing()
    assert isinstance(details, models.BillingOut)
    assert details.has_payment_customer is False
    assert (details.default_payment_method, details.payment_methods) == (None, [])

    assert customer.portal_session(account).url == account  # test mode: the return URL
    invoices = customer.invoices(limit=5)
    assert isinstance(invoices, models.InvoiceList)
    assert (invoices.data, invoices.next_cursor) == ([], None)

    # Test mode keeps no cards.
    with pytest.raises(ConflictError) as excinfo:
        customer.create_setup_intent(return_url=account)
    assert excinfo.value.code == "test_mode"
    with pytest.raises(ConflictError) as excinfo:
        client.set_default_payment_method("user", user_id, "pm_card_visa")
    assert excinfo.value.code == "test_mode"


def test_transactions_and_refunds(client: Client, user_id: str) -> None:
    # Pro starts with a free trial, which records no payment; the credit pack is paid at once.
    client.create_checkout("user", user_id, "pro", price_id="monthly", currency="usd")
    client.create_checkout("user", user_id, "credit_pack", currency="usd")

    payments = client.transactions(customer_type="user", customer_id=user_id, type="payment")
    assert isinstance(payments, models.TransactionList)
    [payment] = payments.data
    assert (payment.type, payment.product_id, payment.currency) == ("payment", "credit_pack", "usd")
    assert (payment.amount, payment.amount_decimal) == (1000, "10.00")

    partial = client.refund(
        transaction_id=payment.id, amount_decimal="5.00", currency="usd", reason="duplicate"
    )
    assert isinstance(partial, models.RefundOut)
    assert (partial.amount, partial.customer_id) == (500, user_id)
    assert partial.transaction_id is not None

    with pytest.raises(InvalidRequestError) as too_much:
        client.refund(transaction_id=payment.id, amount=10_000)
    assert too_much.value.code == "refund_amount_invalid"

    rest = client.refund(transaction_id=payment.id)
    assert rest.amount == 1000 - 500
    with pytest.raises(ConflictError) as nothing_left:
        client.refund(transaction_id=payment.id)
    assert nothing_left.value.code == "charge_already_refunded"

    mine = client.customer("user", user_id).transactions()
    assert sorted(t.type for t in mine.data) == ["payment", "refund", "refund"]
    [refreshed] = client.transactions(
        customer_type="user", customer_id=user_id, type="payment"
    ).data
    assert refreshed.amount_refunded == 1000

    with pytest.raises(ValueError):
        client.transactions(customer_type="user")


def test_transactions_page_with_a_cursor(client: Client, user_id: str) -> None:
    for _ in range(3):
        client.create_checkout("user", user_id, "credit_pack")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = client.transactions(
            customer_type="user", customer_id=user_id, limit=2, cursor=cursor
        )
        seen += [t.id for t in page.data]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3


# --- teams and customer sessions ------------------------------------------------------------


def test_team_members(client: Client) -> None:
    team = new_id("team")
    admin, member = new_id("u"), new_id("u")

    added = client.set_team_member(team, admin, "admin")
    assert isinstance(added, MemberOut)
    assert (added.team_id, added.user_id, added.role) == (team, admin, "admin")
    client.set_team_member(team, member)
    assert client.set_team_member(team, member, "admin").role == "admin"  # a role change

    members = client.team_members(team)
    assert sorted(m.user_id for m in members.data) == sorted([admin, member])
    assert members.seats.used == 2

    client.remove_team_member(team, member)  # 204 No Content
    assert [m.user_id for m in client.team_members(team).data] == [admin]


def test_team_seats_are_enforced(client: Client) -> None:
    team = new_id("team")
    for _ in range(3):  # Team Free has 3 seats
        client.set_team_member(team, new_id("u"))
    with pytest.raises(ConflictError) as excinfo:
        client.set_team_member(team, new_id("u"))
    assert excinfo.value.code == "seat_limit_reached"

    client.create_checkout("team", team, "team")  # 10 seats
    client.set_team_member(team, new_id("u"))
    assert client.team_members(team).seats.limit == 10


def test_customer_session_acts_as_the_user(
    client: Client, plangate_server: RunningServer, user_id: str
) -> None:
    team = new_id("team")
    client.set_team_member(team, user_id, "admin")
    minted = client.create_customer_session(user_id, teams={team: "admin"}, expires_in=60)
    assert isinstance(minted, CustomerSessionOut)
    assert (minted.user_id, minted.teams) == (user_id, {team: "admin"})

    with Client(minted.token, plangate_server.base_url) as as_user:
        as_user.create_checkout("user", user_id, "pro")  # a client buys for itself
        assert as_user.has("user", user_id, feature="export")
        assert as_user.cancel("user", user_id, "pro").cancellation is not None
        # ... and manages the team it administers,
        other = new_id("u")
        assert as_user.set_team_member(team, other).user_id == other
        # but the server's calls stay the server's.
        with pytest.raises(PermissionDeniedError):
            as_user.transactions()
        with pytest.raises(PermissionDeniedError):
            as_user.create_customer_session(user_id)
        with pytest.raises(PermissionDeniedError):
            as_user.create_checkout("user", new_id("u"), "pro")


# --- the async client -----------------------------------------------------------------------


def test_async_client_billing_end_to_end(plangate_server: RunningServer, user_id: str) -> None:
    async def scenario() -> dict[str, Any]:
        async with AsyncClient(plangate_server.secret_key, plangate_server.base_url) as sdk:
            customer = sdk.customer("user", user_id)
            created = await customer.create_checkout("pro", price_id="yearly")
            session = await sdk.get_checkout_session(created.id)
            assert session.fulfilled
            assert await customer.has(feature="export")

            change = await sdk.switch("user", user_id, "pro", "pro", price_id="monthly")
            assert change.change == "upgrade"
            cancelled = await customer.cancel("pro")
            assert cancelled.cancellation is not None
            assert cancelled.cancellation.cancel_at_period_end
            resumed = await sdk.resume("user", user_id, "pro")
            assert resumed.cancellation is not None
            assert not resumed.cancellation.cancel_at_period_end

            assert not (await customer.billing()).has_payment_customer
            account = plangate_server.base_url + "/account"
            portal = await sdk.portal_session("user", user_id, account)
            assert portal.url == account
            assert (await customer.invoices()).data == []
            with pytest.raises(ConflictError):
                await customer.create_setup_intent()
            with pytest.raises(ConflictError):
                await customer.set_default_payment_method("pm_card_visa")

            await customer.create_checkout("credit_pack")  # pro's trial recorded no payment
            [payment] = (await customer.transactions(type="payment")).data
            refund = await sdk.refund(transaction_id=payment.id, amount=100)
            assert refund.amount == 100

            team = new_id("team")
            await sdk.set_team_member(team, user_id, "admin")
            assert [m.user_id for m in (await sdk.team_members(team)).data] == [user_id]
            await sdk.remove_team_member(team, user_id)
            assert (await sdk.team_members(team)).data == []

            minted = await sdk.create_customer_session(user_id, teams={team: "admin"})
            return {"token": minted.token, "teams": minted.teams}

    result = asyncio.run(scenario())
    assert result["token"]
    assert result["teams"]
