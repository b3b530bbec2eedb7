"""Billing portal sessions (the API side; the page is in `portal_page`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .router import ApiRequest, Router
from .wire import Obj, get_str, new_id

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
KIND = "billing_portal.session"
# One fixed configuration: cancel at period end, switch price (prorated), update the card.
DEFAULT_CONFIGURATION = "bpc_sandbox_default"


@router.post("/v1/billing_portal/sessions")
def create_portal_session(sb: Sandbox, req: ApiRequest) -> Obj:
    cus_id = get_str(req.params, "customer", required=True) or ""
    customer = sb.get("customer", cus_id, param="customer")
    bps_id = new_id("bps")
    session: Obj = {
        "id": bps_id, "object": KIND,
        "configuration": get_str(req.params, "configuration") or DEFAULT_CONFIGURATION,
        "created": sb.now(customer), "customer": cus_id, "customer_account": None,
        "flow": None, "livemode": False, "locale": get_str(req.params, "locale"),
        "on_behalf_of": None, "return_url": get_str(req.params, "return_url"),
        "url": f"{sb.base_url}/billing_portal/{bps_id}",
    }
    sb.store.put(session)
    return session


@router.get("/v1/billing_portal/sessions/{id}")
def retrieve_portal_session(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get(KIND, id, "billing portal session")
