"""``Idempotency-Key`` on POST: the effect and the record of its answer commit together, so a
retry either finds the first answer or runs the request for the first time, never twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plangate.api.context import AppContext
from plangate.api.deps import Caller, Context, Principal
from plangate.errors import Conflict, InvalidRequest
from plangate.services.access.idempotency_records import (
    RecordedAnswer,
    find_answer,
    record_answer,
)

MAX_KEY_LENGTH = 255

Effect = Callable[[Session], tuple[int, dict[str, Any]]]


class Idempotency:
    def __init__(
        self, ctx: AppContext, principal: Principal, key: str | None, request_hash: str
    ) -> None:
        self.ctx = ctx
        self.principal = principal
        self.key = key
        self.request_hash = request_hash

    def run(self, effect: Effect) -> JSONResponse:
        """Runs ``effect`` in one write transaction, recording its answer under the key."""
        if self.key is None:
            with self.ctx.db.write() as session:
                status, body = effect(session)
            return JSONResponse(body, status_code=status)
        for _ in range(2):
            try:
                with self.ctx.db.write() as session:
                    record = self._find(session)
                    if record is not None:
                        return self._replay(record)
                    status, body = effect(session)
                    record_answer(
                        session,
                        self.principal.name,
                        self.key,
                        self.request_hash,
                        status,
                        body,
                        self.now(),
                    )
                return JSONResponse(body, status_code=status)
            except IntegrityError:
                # A concurrent request with the same key committed first; its effect stands
                # and ours was rolled back with this transaction. Replay its answer.
                continue
        raise Conflict(
            "idempotency_request_in_progress", "a request with this Idempotency-Key is running"
        )

    def now(self) -> datetime:
        return self.ctx.clock.now()

    def _find(self, session: Session) -> RecordedAnswer | None:
        assert self.key is not None
        return find_answer(session, self.principal.name, self.key)

    def _replay(self, record: RecordedAnswer) -> JSONResponse:
        if record.request_hash != self.request_hash:
            raise Conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request; use a new key",
                param="Idempotency-Key",
            )
        return JSONResponse(
            record.body,
            status_code=record.status_code,
            headers={"Idempotent-Replayed": "true"},
        )


async def idempotency(request: Request, ctx: Context, principal: Caller) -> Idempotency:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise InvalidRequest(
            "idempotency_key_invalid",
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            param="Idempotency-Key",
        )
    body = await request.body()
    try:
        # Hash the parsed body so that key order and whitespace don't make a retry "different".
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True).encode()
    except ValueError:
        canonical = body
    # The query is part of the request: ``DELETE ...?immediately=true`` is another request
    # than the same DELETE without it.
    target = request.url.path + ("?" + request.url.query if request.url.query else "")
    digest = hashlib.sha256(
        request.method.encode() + b" " + target.encode() + b"\n" + canonical
    ).hexdigest()
    return Idempotency(ctx, principal, key, digest)


Idempotent = Annotated[Idempotency, Depends(idempotency)]
