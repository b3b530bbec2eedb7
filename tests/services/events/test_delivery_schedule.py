"""Retries on Svix's schedule driven by the clock, failure, replay, the five days that disable
an endpoint, secret rotation, and destinations refused at delivery time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from plangate.clock import FrozenClock
from plangate.services.events.delivery import RETRY_SCHEDULE, DeliveryWorker
from plangate.services.events.signing import signature_headers
from tests.services.events.receiver import Receiver
from tests.services.events.test_outbox import C, add_endpoint

ONLY_GRANTS = {"event_types": ["product.granted"]}


def signed_by(secret: str, received_headers: dict[str, str], body: bytes) -> bool:
    """Whether the official library's signature for ``secret`` is among those sent."""
    expected = Webhook(secret).sign(
        received_headers["webhook-id"],
        _at(received_headers["webhook-timestamp"]),
        body.decode(),
    )
    return expected in received_headers["webhook-signature"].split(" ")


def _at(timestamp: str):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def test_the_specifications_test_vector() -> None:
    from datetime import UTC, datetime

    headers = signature_headers(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        datetime.fromtimestamp(1614265330, tz=UTC),
        '{"test": 2432232314}',
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_a_receiver_down_for_three_attempts_gets_the_event_once_when_back(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker, clock: FrozenClock
) -> None:
    receiver.fail_first = 3
    endpoint = add_endpoint(app_client, receiver.url, **ONLY_GRANTS)
    app_client.post(C + "/products", json={"product_id": "pro"})
    deliveries.drain()  # attempt 1, immediately: down
    assert len(receiver.received) == 1
    for wait in RETRY_SCHEDULE[1:4]:
        clock.advance(wait - timedelta(seconds=1))
        deliveries.drain()  # not due yet
        clock.advance(timedelta(seconds=1))
        deliveries.drain()
    assert [r.status for r in receiver.received] == [503, 503, 503, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    (success,) = receiver.successes()
    assert signed_by(endpoint["secret"], success.headers, success.body)
    clock.advance(timedelta(days=1))
    deliveries.drain()
    assert len(receiver.received) == 4  # delivered once, never again
    attempts = app_client.get(f"/v1/webhook-endpoints/{endpoint['id']}/attempts").json()["data"]
    assert [a["status_code"] for a in attempts] == [200, 503, 503, 503]
    assert attempts[-1]["response"] == "down for maintenance"


def test_after_the_last_retry_a_message_fails_and_can_be_replayed(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker, clock: FrozenClock
) -> None:
    receiver.fail_first = 1000
    endpoint = add_endpoint(app_client, receiver.url, **ONLY_GRANTS)
    start = clock.now()
    app_client.post(C + "/products", json={"product_id": "pro"})
    for wait in RETRY_SCHEDULE:
        clock.advance(wait)
        deliveries.drain()
    clock.advance(timedelta(days=2))
    deliveries.drain()
    assert len(receiver.received) == len(RETRY_SCHEDULE) == 8
    assert not app_client.get(f"/v1/webhook-endpoints/{endpoint['id']}").json()["disabled"]

    receiver.fail_first = 0
    replay = app_client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/replay", json={"since": start.isoformat()}
    )
    assert replay.json() == {"queued": 1}
    deliveries.drain()
    assert len(receiver.successes()) == 1
    message_id = receiver.successes()[0].headers["webhook-id"]
    assert {r.headers["webhook-id"] for r in receiver.received} == {message_id}

    # One message on demand, although it was delivered.
    again = app_client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/replay", json={"message_id": message_id}
    )
    assert again.json() == {"queued": 1}
    deliveries.drain()
    assert len(receiver.successes()) == 2


def test_an_endpoint_failing_for_five_days_is_disabled(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker, clock: FrozenClock
) -> None:
    receiver.fail_first = 10_000
    endpoint = add_endpoint(app_client, receiver.url, **ONLY_GRANTS)
    for day in range(6):
        app_client.post(f"/v1/customers/user/u{day}/products", json={"product_id": "pro"})
        deliveries.drain()
        clock.advance(timedelta(days=1))
    state = app_client.get(f"/v1/webhook-endpoints/{endpoint['id']}").json()
    assert state["disabled"] and state["disabled_reason"] == "failing for 5 days"
    sent = len(receiver.received)
    app_client.post("/v1/customers/user/late/products", json={"product_id": "pro"})
    clock.advance(timedelta(days=1))
    deliveries.drain()
    assert len(receiver.received) == sent  # nothing more to a disabled endpoint


def test_during_a_rotation_both_secrets_sign(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker, clock: FrozenClock
) -> None:
    endpoint = add_endpoint(app_client, receiver.url, **ONLY_GRANTS)
    rotated = app_client.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret").json()
    assert rotated["secret"] != endpoint["secret"]
    app_client.post(C + "/products", json={"product_id": "pro"})
    deliveries.drain()
    (during,) = receiver.successes()
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        Webhook(secret).verify(during.body, during.headers)

    clock.advance(timedelta(days=1, seconds=1))  # the overlap is over
    app_client.post("/v1/customers/user/bob/products", json={"product_id": "pro"})
    deliveries.drain()
    after = receiver.successes()[1]
    assert signed_by(rotated["secret"], after.headers, after.body)
    assert not signed_by(endpoint["secret"], after.headers, after.body)
    # The scheme itself, by hand: HMAC-SHA256 over id.timestamp.body with the decoded key.
    key = base64.b64decode(rotated["secret"].removeprefix("whsec_"))
    signed = f"{after.headers['webhook-id']}.{after.headers['webhook-timestamp']}.".encode()
    digest = hmac.new(key, signed + after.body, hashlib.sha256).digest()
    assert after.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_redirects_are_not_followed(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    elsewhere = Receiver().start()
    try:
        receiver.redirect_to = elsewhere.url
        endpoint = add_endpoint(app_client, receiver.url, **ONLY_GRANTS)
        app_client.post(C + "/products", json={"product_id": "pro"})
        deliveries.drain()
        assert elsewhere.received == []
        attempts = app_client.get(f"/v1/webhook-endpoints/{endpoint['id']}/attempts").json()
        assert [(a["status_code"], a["succeeded"]) for a in attempts["data"]] == [(307, False)]
    finally:
        elsewhere.stop()


def test_a_destination_no_longer_allowed_is_refused_at_delivery(
    app_client: TestClient, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    endpoint = add_endpoint(app_client, receiver.url, **ONLY_GRANTS)
    deliveries.settings.webhook_allowed_networks = []  # the operator withdrew the allowance
    app_client.post(C + "/products", json={"product_id": "pro"})
    deliveries.drain()
    assert receiver.received == []
    (attempt,) = app_client.get(f"/v1/webhook-endpoints/{endpoint['id']}/attempts").json()["data"]
    assert not attempt["succeeded"] and attempt["status_code"] is None
    assert attempt["response"].startswith("refused:") and "127.0.0.1" in attempt["response"]
