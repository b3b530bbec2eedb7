"""The webhook endpoint's payload check reads the bytes where they can tell and walks the
event only where they cannot: both must give the walk's answer for every payload."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plangate.services.stripe_sync.webhooks import (
    MAX_EVENT_DEPTH,
    _payload_problem,
    _unsafe_text_at,
)


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for i in range(levels):
        value = {"k": value} if i % 2 else [value]
    return {"id": "evt_1", "type": "x", "data": value}


def _event(text: str) -> dict[str, Any]:
    return {"id": "evt_1", "type": "x", "data": {"object": {"name": text, "tags": [text]}}}


CASES = [
    pytest.param(json.dumps(_event("plain")).encode(), id="plain"),
    pytest.param(json.dumps(_event("caf\u00e9 \ud55c")).encode(), id="escaped-non-ascii"),
    pytest.param(
        json.dumps(_event("caf\u00e9 \ud55c"), ensure_ascii=False).encode(), id="utf8-hangul"
    ),
    pytest.param(json.dumps(_event("\U0001f600")).encode(), id="escaped-surrogate-pair"),
    pytest.param(json.dumps(_event("a\x00b")).encode(), id="escaped-nul"),
    pytest.param(json.dumps(_event("\udc00")).encode(), id="escaped-lone-surrogate"),
    pytest.param(b'{"id": "evt_1", "type": "x", "n": "\\\\u0000"}', id="escaped-backslash"),
    pytest.param(b'{"id": "evt_1", "type": "x", "n": "[[[{{{"}', id="brackets-in-text"),
    *(
        pytest.param(json.dumps(_nested(levels)).encode(), id=f"{levels}-deep")
        for levels in (MAX_EVENT_DEPTH - 1, MAX_EVENT_DEPTH, MAX_EVENT_DEPTH + 1, 200)
    ),
]


@pytest.mark.parametrize("payload", CASES)
def test_the_byte_check_answers_as_the_walk_does(payload: bytes) -> None:
    event = json.loads(payload)
    assert _payload_problem(payload, event) == _unsafe_text_at(event)


def test_the_cases_cover_both_answers() -> None:
    answers = {_unsafe_text_at(json.loads(p.values[0])) for p in CASES}
    assert None in answers and len(answers) == 3  # accepted, bad text, too deep
