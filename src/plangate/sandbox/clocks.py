"""Test clocks. `advance` runs everything due up to the new time synchronously, in time
order, and answers with the clock already `ready` (webhooks follow asynchronously)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .router import PAGE, ApiRequest, Router
from .scheduler import run_due
from .wire import Obj, get_int, get_str, invalid, new_id, paginate

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
KIND = "test_helpers.test_clock"
_THIRTY_DAYS = 30 * 86400


@router.post("/v1/test_helpers/test_clocks", "test_helpers.TestClockCreateParams",
              ("frozen_time", "name"))
def create_clock(sb: Sandbox, req: ApiRequest) -> Obj:
    frozen = get_int(req.params, "frozen_time", required=True) or 0
    clock: Obj = {
        "id": new_id("clock"), "object": KIND, "created": sb.real_now(),
        "deletes_after": sb.real_now() + _THIRTY_DAYS, "frozen_time": frozen,
        "livemode": False, "name": get_str(req.params, "name"), "status": "ready",
        "status_details": {},
    }
    sb.store.put(clock)
    sb.emit("test_helpers.test_clock.created", clock)
    return clock


@router.get("/v1/test_helpers/test_clocks/{id}", "test_helpers.TestClockRetrieveParams")
def retrieve_clock(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get(KIND, id, "test_helpers.test_clock")


@router.get("/v1/test_helpers/test_clocks", "test_helpers.TestClockListParams", PAGE)
def list_clocks(sb: Sandbox, req: ApiRequest) -> Obj:
    return paginate(sb.store.all(KIND), req.params, "/v1/test_helpers/test_clocks")


@router.delete("/v1/test_helpers/test_clocks/{id}", "test_helpers.TestClockDeleteParams")
def delete_clock(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    clock = sb.get(KIND, id, "test_helpers.test_clock")
    sb.emit("test_helpers.test_clock.deleted", clock)
    sb.store.remove(KIND, id)
    for cus in sb.store.all("customer"):
        if cus.get("test_clock") == id:  # Stripe deletes a clock's customers with it
            sb.store.put({"id": cus["id"], "object": "customer", "deleted": True,
                          "created": cus["created"], "_seq": cus["_seq"]})
    return {"id": id, "object": KIND, "deleted": True}


@router.post("/v1/test_helpers/test_clocks/{id}/advance", "test_helpers.TestClockAdvanceParams",
              ("frozen_time",))
def advance_clock(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    clock = sb.get(KIND, id, "test_helpers.test_clock")
    target = get_int(req.params, "frozen_time", required=True) or 0
    if target <= clock["frozen_time"]:
        raise invalid("The test clock must be advanced to a time after its current "
                      "frozen_time.", "frozen_time")
    clock["status"] = "advancing"
    clock["status_details"] = {"advancing": {"target_frozen_time": target}}
    sb.store.put(clock)
    sb.emit("test_helpers.test_clock.advancing", clock)
    run_due(sb, id, target)
    clock["status"] = "ready"
    clock["status_details"] = {}
    sb.store.put(clock)
    sb.emit("test_helpers.test_clock.ready", clock)
    return clock
