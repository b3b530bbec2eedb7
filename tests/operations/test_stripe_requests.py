"""Stripe's answers as the SDK gets them, counted per endpoint and status: a server that
answers 429 (rate limited, as Stripe does: its error body, ``Stripe-Should-Retry``) before it
answers 200, reached through plangate's own Stripe client and the official SDK's retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from plangate.gateways.stripe_client import make_stripe_client
from plangate.observability.metrics import exposition, stripe_endpoint
from plangate.settings import Settings
from tests.operations.scrape import value

RATE_LIMITED = {"error": {"type": "rate_limit_error", "code": "rate_limit",
                          "message": "Request rate limit exceeded."}}


class _Stripe(BaseHTTPRequestHandler):
    """Answers 429 to the first ``limited`` requests, then a subscription."""

    limited = 0
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).seen.append(self.path)
        if type(self).limited > 0:
            type(self).limited -= 1
            status, body = 429, RATE_LIMITED
            headers = {"Stripe-Should-Retry": "true"}
        else:
            status, body = 200, {"id": self.path.rsplit("/", 1)[-1], "object": "subscription"}
            headers = {}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", "req_test")
        for name, header in headers.items():
            self.send_header(name, header)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def stripe_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_rate_limited_call_counts_each_429_and_the_final_200(stripe_url: str) -> None:
    client = make_stripe_client(Settings(stripe_api_key="sk_test_x", stripe_api_base=stripe_url))
    endpoint = "/v1/subscriptions/{id}"
    before = exposition().decode()
    _Stripe.limited, _Stripe.seen = 2, []
    subscription = client.v1.subscriptions.retrieve("sub_1RateLimited")
    after = exposition().decode()
    assert subscription.id == "sub_1RateLimited"
    assert _Stripe.seen == ["/v1/subscriptions/sub_1RateLimited"] * 3  # two retries

    def grew(status: str) -> float:
        return value(after, "plangate_stripe_requests_total", method="GET",
                     endpoint=endpoint, status=status) - value(
            before, "plangate_stripe_requests_total", method="GET", endpoint=endpoint,
            status=status)

    assert grew("429") == 2 and grew("200") == 1
    assert value(after, "plangate_stripe_request_duration_seconds_count", method="GET",
                 endpoint=endpoint) - value(
        before, "plangate_stripe_request_duration_seconds_count", method="GET",
        endpoint=endpoint) == 3


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/v1/subscriptions/sub_1AbC2xYz", "/v1/subscriptions/{id}"),
        ("/v1/subscriptions/sub_1AbC2xYz/cancel", "/v1/subscriptions/{id}/cancel"),
        ("/v1/checkout/sessions/cs_test_a1B2c3?expand[0]=line_items",
         "/v1/checkout/sessions/{id}"),
        ("/v1/payment_intents", "/v1/payment_intents"),
        ("/v1/billing_portal/configurations/bpc_1Q2w3E", "/v1/billing_portal/configurations/{id}"),
        ("/v1/test_helpers/test_clocks/clock_1Xy/advance",
         "/v1/test_helpers/test_clocks/{id}/advance"),
        ("/v1/customers/search", "/v1/customers/search"),
    ],
)
def test_ids_leave_the_endpoint_label(path: str, endpoint: str) -> None:
    assert stripe_endpoint(path) == endpoint
