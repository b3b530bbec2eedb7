"""schemathesis hooks for the contract run (tests/api/test_openapi_contract.py): sign the
Stripe webhook requests it generates, as Stripe would, so that valid events reach the store
and only the body decides the answer. Loaded through ``SCHEMATHESIS_HOOKS``."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import schemathesis

from plangate.sandbox.webhooks import sign


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
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
