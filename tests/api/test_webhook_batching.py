"""Concurrent webhook requests share transactions (services/stripe_sync/inbox.py): every
event is stored once, every redelivery is answered as one, and a failed shared write falls
back to one write per event. Real HTTP to a real server, real concurrency, both databases."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.sandbox.webhooks import sign
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import StripeEvent
from tests.browser_harness import serve_in_thread

SECRET = "whsec_batching"


class Spy:
    """Records the size of every write the inbox makes; the first holds for a moment, so the
    requests arriving meanwhile queue for the next one, and ``fail_shared`` writes of more
    than one event fail once (as a lost connection would)."""

    def __init__(self, insert: Any, fail_shared: int = 0) -> None:
        self.insert, self.fail_shared = insert, fail_shared
        self.sizes: list[int] = []
        self.failed = 0  # the size of the write that failed
        self.lock = threading.Lock()

    def __call__(self, rows: list[dict[str, Any]]) -> set[str]:
        with self.lock:
            self.sizes.append(len(rows))
            first = len(self.sizes) == 1
            fail = len(rows) > 1 and self.fail_shared > 0
            if fail:
                self.fail_shared -= 1
                self.failed = len(rows)
        if first:
            time.sleep(0.5)
        if fail:
            raise ConnectionError("the connection was lost")
        return self.insert(rows)  # type: ignore[no-any-return]


@pytest.fixture
def server(db: Database, clock: FrozenClock) -> Iterator[tuple[str, Any]]:
    settings = Settings(
        database_url=db.url.render_as_string(hide_password=False),
        gateway="test",
        stripe_webhook_secret=SECRET,
    )
    app = create_app(settings, db=db, clock=clock)
    url, uvicorn_server, thread = serve_in_thread(app)
    yield url, app.state.plangate.event_inbox
    uvicorn_server.should_exit = True
    thread.join(5)


def _post_all(url: str, ids: list[str]) -> list[dict[str, Any]]:
    local = threading.local()

    def post(event_id: str) -> dict[str, Any]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=30)
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": "invoice.paid",
                "created": 1767225600,
                "data": {"object": {"id": f"in_{event_id}", "object": "invoice"}},
            }
        )
        answer = local.client.post(
            "/v1/stripe/webhooks",
            content=body,
            headers={"Stripe-Signature": sign(body, SECRET, int(time.time()))},
        )
        assert answer.status_code == 200, answer.text
        return {"id": event_id, **answer.json()}

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(post, ids))


def _stored(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(StripeEvent.id)))


@pytest.mark.parametrize("fail_shared", [0, 1], ids=["ok", "a-shared-write-fails"])
def test_concurrent_events_are_stored_once_in_shared_writes(
    server: tuple[str, Any], db: Database, fail_shared: int
) -> None:
    url, inbox = server
    spy = inbox._insert = Spy(inbox._insert, fail_shared)
    distinct = [f"evt_{n:03d}" for n in range(120)]
    # Every fourth event delivered twice (Stripe's at-least-once), the copies interleaved.
    ids = distinct + distinct[::4]
    answers = _post_all(url, ids)

    assert _stored(db) == distinct
    for event_id in distinct:
        mine = [a for a in answers if a["id"] == event_id]
        assert sorted(a["duplicate"] for a in mine) == [False] + [True] * (len(mine) - 1)
    assert sum(spy.sizes) >= len(ids)
    assert max(spy.sizes) > 1  # the requests that came during the first write shared one
    assert len(spy.sizes) < len(ids)
    if fail_shared:
        # The failed shared write was retried one event at a time, and nothing failed.
        assert spy.failed > 1 and spy.sizes.count(1) >= spy.failed
