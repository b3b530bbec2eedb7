"""The team and customer-session calls as data (:mod:`plangate_sdk.calls` has the rest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plangate_sdk.calls import Call, _nothing, _post, _present, _segment, _with_key
from plangate_sdk.models import CustomerSessionOut, MemberList, MemberOut, TeamRole


def _member_path(team_id: str, user_id: str | None = None) -> str:
    path = f"/v1/teams/{_segment(team_id)}/members"
    return path if user_id is None else f"{path}/{_segment(user_id)}"


def team_members(team_id: str) -> Call[MemberList]:
    return Call("GET", _member_path(team_id), MemberList.model_validate)


def set_team_member(team_id: str, user_id: str, role: TeamRole) -> Call[MemberOut]:
    # Keyed, so that a retry answers the first 201 rather than a 200 for "already there".
    call = Call(
        "PUT", _member_path(team_id, user_id), MemberOut.model_validate, json={"role": role}
    )
    return _with_key(call, None)


def remove_team_member(team_id: str, user_id: str) -> Call[None]:
    # Keyed: a DELETE retried after a 5xx replays the 204 instead of 404 member_not_found.
    return _with_key(Call("DELETE", _member_path(team_id, user_id), _nothing), None)


def create_customer_session(
    user_id: str,
    *,
    teams: Mapping[str, TeamRole] | None,
    expires_in: int | None,
    idempotency_key: str | None,
) -> Call[CustomerSessionOut]:
    body: dict[str, Any] = {"user_id": user_id, **_present(expires_in=expires_in)}
    if teams is not None:
        body["teams"] = dict(teams)
    return _post("/v1/customer-sessions", CustomerSessionOut.model_validate, body, idempotency_key)
