"""Each test card's outcome through the PaymentIntents and PaymentMethods APIs."""

from __future__ import annotations

import pytest
import stripe


def pay(client: stripe.StripeClient, pm: str, off_session: bool = False,
        customer: str | None = None) -> stripe.PaymentIntent:
    params: dict[str, object] = {"amount": 1999, "currency": "usd", "payment_method": pm,
                                 "confirm": True, "off_session": off_session}
    if customer:
        params["customer"] = customer
    return client.v1.payment_intents.create(params)  # type: ignore[arg-type]


def test_visa_succeeds(client: stripe.StripeClient) -> None:
    pi = pay(client, "pm_card_visa")
    assert pi.status == "succeeded" and pi.amount_received == 1999
    assert client.v1.charges.retrieve(str(pi.latest_charge)).paid is True


@pytest.mark.parametrize("pm,code,decline", [
    ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", None),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", None),
])
def test_declines_raise_card_errors(client: stripe.StripeClient, pm: str, code: str,
                                    decline: str | None) -> None:
    with pytest.raises(stripe.CardError) as exc:
        pay(client, pm)
    assert exc.value.http_status == 402 and exc.value.code == code
    assert exc.value.error is not None and exc.value.error.decline_code == decline
    pi = exc.value.error.payment_intent
    assert pi is not None and pi.status == "requires_payment_method"


def test_charge_customer_fail_attaches_but_charges_fail(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "f@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": cus.id})
    assert pm.customer == cus.id
    with pytest.raises(stripe.CardError):
        pay(client, pm.id, off_session=True, customer=cus.id)
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_methods.attach("pm_card_visa_chargeDeclined", {"customer": cus.id})
    assert exc.value.error is not None and exc.value.error.decline_code == "generic_decline"
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None


def test_3184_needs_authentication_and_fails_off_session(client: stripe.StripeClient) -> None:
    pi = pay(client, "pm_card_authenticationRequired")
    assert pi.status == "requires_action" and pi.next_action is not None
    assert pi.next_action.redirect_to_url is not None
    with pytest.raises(stripe.CardError) as exc:
        pay(client, "pm_card_authenticationRequired", off_session=True)
    assert exc.value.code == "authentication_required"
    assert exc.value.error is not None
    assert exc.value.error.decline_code == "authentication_required"


def test_3155_is_fine_off_session_once_set_up(client: stripe.StripeClient) -> None:
    import httpx

    cus = client.v1.customers.create({"email": "3155@example.com"})
    seti = client.v1.setup_intents.create({"customer": cus.id, "confirm": True,
                                           "payment_method":
                                               "pm_card_authenticationRequiredOnSetup"})
    assert seti.status == "requires_action" and seti.next_action is not None
    url = seti.next_action.redirect_to_url.url  # type: ignore[union-attr]
    httpx.post(str(url), data={"three_d_secure": "complete"}).raise_for_status()
    done = client.v1.setup_intents.retrieve(seti.id)
    assert done.status == "succeeded"
    pi = pay(client, str(done.payment_method), off_session=True, customer=cus.id)
    assert pi.status == "succeeded"
