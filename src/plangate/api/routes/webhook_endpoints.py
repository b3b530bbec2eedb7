"""Outbound webhook endpoints: create, read, change, delete, rotate the secret, read the
attempt log, replay (server only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from plangate.api.deps import Context, ServerCaller
from plangate.api.idempotency import Idempotent
from plangate.api.webhook_schemas import (
    ReplayIn,
    ReplayOut,
    WebhookAttemptList,
    WebhookAttemptOut,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointOut,
    WebhookEndpointPatch,
)
from plangate.services.events import endpoints

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])
EndpointId = Annotated[str, Path(pattern="^ep_[a-f0-9]{1,36}$", description="an endpoint")]


def _out(endpoint: Any, *, with_secret: bool = False) -> dict[str, Any]:
    view = endpoints.endpoint_view(endpoint, with_secret=with_secret)
    return WebhookEndpointOut(**view).model_dump(mode="json")


@router.post("", status_code=201, responses={201: {"model": WebhookEndpointOut}})
def create_endpoint(
    body: WebhookEndpointIn, ctx: Context, _: ServerCaller, idem: Idempotent
) -> JSONResponse:
    """Checks the destination (after DNS resolution) and answers the new secret once."""
    spec = endpoints.EndpointSpec(body.url, body.event_types, body.description)

    def effect(session):  # type: ignore[no-untyped-def]
        created = endpoints.create_endpoint(
            session, spec, ctx.settings.webhook_allowed_networks, ctx.clock.now()
        )
        return 201, _out(created, with_secret=True)

    return idem.run(effect)


@router.get("", response_model=WebhookEndpointList)
def list_endpoints(ctx: Context, _: ServerCaller) -> dict[str, Any]:
    with ctx.db.read() as session:
        return {"data": [_out(e) for e in endpoints.list_endpoints(session)]}


@router.get("/{endpoint_id}", response_model=WebhookEndpointOut)
def get_endpoint(endpoint_id: EndpointId, ctx: Context, _: ServerCaller) -> dict[str, Any]:
    with ctx.db.read() as session:
        return _out(endpoints.get_endpoint(session, endpoint_id))


@router.patch("/{endpoint_id}", response_model=WebhookEndpointOut)
def update_endpoint(
    endpoint_id: EndpointId, body: WebhookEndpointPatch, ctx: Context, _: ServerCaller
) -> dict[str, Any]:
    with ctx.db.write() as session:
        changed = endpoints.update_endpoint(
            session,
            endpoint_id,
            body.model_dump(exclude_none=True),
            ctx.settings.webhook_allowed_networks,
            ctx.clock.now(),
        )
        return _out(changed)


@router.delete("/{endpoint_id}", status_code=204)
def delete_endpoint(endpoint_id: EndpointId, ctx: Context, _: ServerCaller) -> Response:
    with ctx.db.write() as session:
        endpoints.delete_endpoint(session, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", responses={200: {"model": WebhookEndpointOut}})
def rotate_secret(
    endpoint_id: EndpointId, ctx: Context, _: ServerCaller, idem: Idempotent
) -> JSONResponse:
    """A new secret; the old one keeps signing (beside it) for the rotation overlap."""
    overlap = timedelta(seconds=ctx.settings.webhook_rotation_overlap_seconds)

    def effect(session):  # type: ignore[no-untyped-def]
        rotated = endpoints.rotate_secret(session, endpoint_id, overlap, ctx.clock.now())
        return 200, _out(rotated, with_secret=True)

    return idem.run(effect)


@router.get("/{endpoint_id}/attempts", response_model=WebhookAttemptList)
def list_attempts(
    endpoint_id: EndpointId,
    ctx: Context,
    _: ServerCaller,
    message_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> dict[str, Any]:
    with ctx.db.read() as session:
        found = endpoints.list_attempts(session, endpoint_id, message_id=message_id, limit=limit)
        return {"data": [WebhookAttemptOut(**endpoints.attempt_view(a)) for a in found]}


@router.post("/{endpoint_id}/replay", responses={200: {"model": ReplayOut}})
def replay(
    endpoint_id: EndpointId, body: ReplayIn, ctx: Context, _: ServerCaller, idem: Idempotent
) -> JSONResponse:
    """Sends one message again, or every failed one since a time; the schedule restarts."""

    def effect(session):  # type: ignore[no-untyped-def]
        queued = endpoints.replay(
            session,
            endpoint_id,
            ctx.clock.now(),
            message_id=body.message_id,
            failed_since=body.since,
        )
        return 200, {"queued": queued}

    return idem.run(effect)
