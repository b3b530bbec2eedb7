"""``Idempotency-Key`` for requests that write to the payment gateway.

A Stripe call must not run inside a database transaction (it would hold the write lock for a
network round trip), so such a request is answered in three steps: a retry whose first answer
is recorded gets it back at once, before anything else is checked (the state the checks read
has moved on since); otherwise the Stripe writes run, each with an idempotency key derived
from the caller's (:func:`scope`), so a retry after a crash repeats them harmlessly; and the
answer is recorded. Test mode has no Stripe call and runs in ``Idempotency.run`` directly.

:class:`RecordedWrite` offers both to a purchase backend, which picks the one it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from plangate.api.idempotency import Idempotency

# Turns an operation's body into the route's answer, in a session that sees plangate's state.
Shape = Callable[[Session, dict[str, Any]], dict[str, Any]]


def scope(idem: Idempotency) -> str | None:
    """Names one request for the gateway's idempotency keys: the caller, its key and what it
    asked (another body under the same key is another request). None without a key."""
    if idem.key is None:
        return None
    return f"{idem.principal.name}\x00{idem.key}\x00{idem.request_hash}"


def replayed(idem: Idempotency) -> JSONResponse | None:
    """The recorded answer to this request, if there is one (409 if the key was used with
    another request)."""
    if idem.key is None:
        return None
    with idem.ctx.db.read() as session:
        # Idempotency's own lookup and replay: one definition of "the same request".
        record = idem._find(session)
        return idem._replay(record) if record is not None else None


def run_gateway_write(
    idem: Idempotency, write: Callable[[], dict[str, Any]], status: int = 200
) -> JSONResponse:
    """Replays a recorded answer, or runs ``write`` (outside any transaction) and records
    what it answers."""
    found = replayed(idem)
    if found is not None:
        return found
    body = write()
    return idem.run(lambda _session: (status, body))


class RecordedWrite:
    """A purchase backend's :class:`~plangate.services.purchases.Recorder` over the request's
    Idempotency-Key: the answer (``shape``d, if given) is recorded with ``status``."""

    def __init__(self, idem: Idempotency, *, status: int = 200, shape: Shape | None = None):
        self.idem = idem
        self.status = status
        self.shape = shape

    def in_transaction(self, effect: Callable[[Session], dict[str, Any]]) -> JSONResponse:
        def run(session: Session) -> tuple[int, dict[str, Any]]:
            body = effect(session)
            return self.status, self.shape(session, body) if self.shape else body

        return self.idem.run(run)

    def after_gateway(self, write: Callable[[], dict[str, Any]]) -> JSONResponse:
        shape = self.shape

        def run() -> dict[str, Any]:
            body = write()
            if shape is None:
                return body
            with self.idem.ctx.db.read() as session:
                return shape(session, body)

        return run_gateway_write(self.idem, run, self.status)
