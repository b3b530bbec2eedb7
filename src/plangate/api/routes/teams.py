"""Team memberships: who belongs to a team, with which role, within its seats."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from plangate.api.deps import Caller, Context, authorize_customer
from plangate.api.idempotency import Idempotent
from plangate.api.schemas import MemberIn, MemberList, MemberOut, SeatsOut
from plangate.services.entitlements import teams
from plangate.services.entitlements.customers import CustomerRef, customer_ref

router = APIRouter(prefix="/v1/teams/{team_id}/members", tags=["teams"])


def _member_out(view: teams.MemberView) -> MemberOut:
    return MemberOut.model_validate(view, from_attributes=True)


def _team(team_id: str) -> CustomerRef:
    return customer_ref("team", team_id)


@router.get("", response_model=MemberList)
def list_members(team_id: str, ctx: Context, caller: Caller) -> MemberList:
    """The team's members and seats (server, or a member of the team)."""
    authorize_customer(ctx, caller, _team(team_id), manage=False)
    now = ctx.clock.now()
    with ctx.db.write() as session:  # reading the seats settles the team's items
        catalog = ctx.catalogs.active(session)
        seats = teams.seats(session, catalog, team_id, now)
        members = teams.list_members(session, team_id)
        return MemberList(
            data=[_member_out(teams.member_view(m)) for m in members],
            seats=SeatsOut(limit=seats.limit, used=seats.used),
        )


@router.put(
    "/{user_id}", response_model=MemberOut, responses={201: {"model": MemberOut}}
)
def put_member(
    team_id: str, user_id: str, body: MemberIn, ctx: Context, caller: Caller, idem: Idempotent
) -> JSONResponse:
    """Add a member (201; needs a free seat, else 409 ``seat_limit_reached``) or change its
    role (200). Server, or an admin of the team."""
    authorize_customer(ctx, caller, _team(team_id), manage=True)
    customer_ref("user", user_id)

    # With an Idempotency-Key a retry answers the first 201, not a 200 for "already there".
    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        catalog = ctx.catalogs.active(session)
        member, created = teams.put_member(
            session, catalog, team_id, user_id, body.role, ctx.clock.now()
        )
        out = _member_out(teams.member_view(member))
        return (201 if created else 200), out.model_dump(mode="json")

    return idem.run(effect)


@router.delete("/{user_id}", status_code=204)
def remove_member(
    team_id: str, user_id: str, ctx: Context, caller: Caller, idem: Idempotent
) -> Response:
    """Remove a member, freeing its seat. Server, an admin of the team, or the member itself
    (leaving the team)."""
    leaving = caller.user_id is not None and caller.user_id == user_id
    authorize_customer(ctx, caller, _team(team_id), manage=not leaving)
    customer_ref("user", user_id)

    # With an Idempotency-Key a retry replays the 204 instead of 404 ``member_not_found``.
    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        teams.remove_member(session, team_id, user_id, ctx.clock.now())
        return 204, {}

    answered = idem.run(effect)
    replayed = {k: v for k, v in answered.headers.items() if k == "idempotent-replayed"}
    return Response(status_code=answered.status_code, headers=replayed)
