"""Events (retrieve, list) and webhook endpoints."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from .router import PAGE, ApiRequest, Router
from .wire import (
    API_VERSION,
    Obj,
    apply_metadata,
    get_bool,
    get_list,
    get_str,
    invalid,
    match_created,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()


def _type_matches(event_type: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return event_type.startswith(wanted[:-1])
    return event_type == wanted


@router.get("/v1/events/{id}", "EventRetrieveParams")
def retrieve_event(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("event", id)


@router.get("/v1/events", "EventListParams", (*PAGE, "created", "type", "types"))
def list_events(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    wanted = [str(t) for t in get_list(p, "types")]
    one = get_str(p, "type")
    if one is not None:
        wanted.append(one)
    items = [
        e for e in sb.store.all("event")
        if match_created(e, p) and (not wanted or any(_type_matches(e["type"], w)
                                                      for w in wanted))
    ]
    return paginate(items, p, "/v1/events")


# --- webhook endpoints --------------------------------------------------------------------------


def _enabled_events(req: ApiRequest, required: bool) -> list[str] | None:
    if "enabled_events" not in req.params:
        if required:
            raise invalid("Missing required param: enabled_events.", "enabled_events",
                          code="parameter_missing")
        return None
    events = [str(e) for e in get_list(req.params, "enabled_events")]
    if not events:
        raise invalid("enabled_events must not be empty.", "enabled_events")
    return events


@router.post("/v1/webhook_endpoints", "WebhookEndpointCreateParams",
              ("api_version", "description", "enabled_events", "metadata", "url"))
def create_endpoint(sb: Sandbox, req: ApiRequest) -> Obj:
    url = get_str(req.params, "url", required=True) or ""
    if not url.startswith(("http://", "https://")):
        raise invalid("Invalid URL: must be an http or https URL.", "url", code="url_invalid")
    ep: Obj = {
        "id": new_id("we"), "object": "webhook_endpoint",
        "api_version": get_str(req.params, "api_version") or API_VERSION,
        "application": None, "created": sb.real_now(),
        "description": get_str(req.params, "description"),
        "enabled_events": _enabled_events(req, True), "livemode": False, "metadata": {},
        "status": "enabled", "url": url, "_secret": f"whsec_{secrets.token_hex(24)}",
    }
    apply_metadata(ep, req.params)
    sb.store.put(ep)
    # The signing secret is shown once, on creation, as Stripe does.
    return {**ep, "secret": ep["_secret"]}


@router.get("/v1/webhook_endpoints/{id}", "WebhookEndpointRetrieveParams")
def retrieve_endpoint(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("webhook_endpoint", id)


@router.post("/v1/webhook_endpoints/{id}", "WebhookEndpointUpdateParams",
              ("description", "disabled", "enabled_events", "metadata", "url"))
def update_endpoint(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    ep = sb.get("webhook_endpoint", id)
    url = get_str(req.params, "url")
    if url is not None:
        ep["url"] = url
    events = _enabled_events(req, False)
    if events is not None:
        ep["enabled_events"] = events
    if "description" in req.params:
        ep["description"] = get_str(req.params, "description")
    disabled = get_bool(req.params, "disabled")
    if disabled is not None:
        ep["status"] = "disabled" if disabled else "enabled"
    apply_metadata(ep, req.params)
    sb.store.put(ep)
    return ep


@router.delete("/v1/webhook_endpoints/{id}", "WebhookEndpointDeleteParams")
def delete_endpoint(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    sb.get("webhook_endpoint", id)
    sb.store.remove("webhook_endpoint", id)
    return {"id": id, "object": "webhook_endpoint", "deleted": True}


@router.get("/v1/webhook_endpoints", "WebhookEndpointListParams", PAGE)
def list_endpoints(sb: Sandbox, req: ApiRequest) -> Obj:
    return paginate(sb.store.all("webhook_endpoint"), req.params, "/v1/webhook_endpoints")
