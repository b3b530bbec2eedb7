"""schemathesis hooks for the contract run (tests/api/test_openapi_contract.py): sign the
Stripe webhook requests it generates, as Stripe would, and the identity webhook requests as
Svix would (Standard Webhooks), so that only the body decides the answer. Loaded through
``SCHEMATHESIS_HOOKS``."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import schemathesis

from plangate.sandbox.webhooks import sign
from plangate.services.identity_sync import secret_key
from plangate.services.identity_sync import sign as sign_standard


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.path == "/v1/identity/webhooks" and case.method.upper() == "POST":
        _sign_identity(case)
        return
    if case.operation.path != "/v1/stripe/webhooks" or case.method.upper() != "POST":
        return
    signature = (case.headers or {}).get("Stripe-Signature")
    if not signature or not isinstance(case.body, (dict, list)):
        # Requests without a signature, or without a JSON body, test the refusals as sent.
        return
    # schemathesis sends a JSON body as requests does, json.dumps with its defaults: the
    # signature covers the same bytes. The body itself is left alone, so every check still
    # judges the case as generated.
    body = json.dumps(case.body, allow_nan=False).encode()
    secret = os.environ["PLANGATE_CONTRACT_WEBHOOK_SECRET"]
    signed = sign(body.decode(), secret, int(time.time()))
    case.headers = {**case.headers, "Stripe-Signature": signed}


def _sign_identity(case: Any) -> None:
    headers = case.headers or {}
    names = ("webhook-id", "webhook-timestamp", "webhook-signature")
    if not all(headers.get(n) for n in names) or not isinstance(case.body, (dict, list)):
        # A missing header or a body that is not JSON tests the refusals as sent.
        return
    body = json.dumps(case.body, allow_nan=False).encode()
    message_id = str(headers["webhook-id"])
    timestamp = int(time.time())
    key = secret_key(os.environ["PLANGATE_CONTRACT_IDENTITY_SECRET"])
    case.headers = {
        **headers,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard(key, message_id, timestamp, body),
    }
