"""Who may reach this installation, on the Settings page (owners only): the operators with
their roles, and the server secret keys. A new key's secret is shown once, on the answer to
the form that made it, and never stored: only its SHA-256 is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.errors import InvalidRequest, NotFound, PlangateError
from plangate.services.access.keys import NewKey, create_key, list_keys, revoke_key
from plangate.services.audit import record_action
from plangate.services.operators import change_role, create_operator, list_operators
from plangate.web.dashboard.auth import Visit, context_of
from plangate.web.dashboard.respond import page, posted_form, refused

router = APIRouter(prefix="/settings")
T = TypeVar("T")
MAX_KEY_NAME = 200


def access_lists(request: Request) -> dict[str, Any]:
    """The operators and keys the Settings page lists for an owner."""
    with context_of(request).db.read() as session:
        return {"operators": list_operators(session),
                "keys": [{"id": k.id, "name": k.name, "prefix": k.prefix,
                          "created_at": k.created_at, "revoked_at": k.revoked_at}
                         for k in list_keys(session)]}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _as_owner(
    request: Request, write: Callable[[FormData, Visit, Session, datetime], T]
) -> T | Response:
    """Runs ``write`` in one database transaction for an owner's checked form; answers the
    refusal (not signed in, bad CSRF token, not an owner, bad input) otherwise."""
    checked = await posted_form(request, "operators")
    if isinstance(checked, Response):
        return checked
    form, visit = checked
    ctx = context_of(request)

    def run() -> T:
        with ctx.db.write() as session:
            return write(form, visit, session, ctx.clock.now())

    try:
        return await run_in_threadpool(run)
    except PlangateError as exc:
        return refused(request, visit, exc.message, exc.status)


def _done(what: str) -> RedirectResponse:
    return RedirectResponse(f"/dashboard/settings?done={what}#h-access", status_code=303)


@router.post("/operators")
async def add_operator(request: Request) -> Response:
    def write(form: FormData, visit: Visit, session: Session, now: datetime) -> None:
        made = create_operator(session, _text(form, "email"), _text(form, "role"),
                               str(form.get("password") or ""), now)
        record_action(session, actor=visit.operator.actor, action="operator.create",
                      target_type="operator", target=made.email, before=None,
                      after={"role": made.role}, now=now)

    answer = await _as_owner(request, write)
    return answer if isinstance(answer, Response) else _done("operator")


@router.post("/operators/role")
async def set_role(request: Request) -> Response:
    def write(form: FormData, visit: Visit, session: Session, now: datetime) -> None:
        change_role(session, visit.operator, _text(form, "email"), _text(form, "role"), now)

    answer = await _as_owner(request, write)
    return answer if isinstance(answer, Response) else _done("role")


@router.post("/keys")
async def new_key(request: Request) -> Response:
    def write(form: FormData, visit: Visit, session: Session,
              now: datetime) -> tuple[NewKey, str, Visit]:
        name = _text(form, "name")
        if not 1 <= len(name) <= MAX_KEY_NAME:
            raise InvalidRequest("name_invalid", f"a key's name has 1 to {MAX_KEY_NAME} "
                                 "characters", param="name")
        made = create_key(session, name, now)
        record_action(session, actor=visit.operator.actor, action="key.create",
                      target_type="key", target=str(made.id), before=None,
                      after={"name": name, "prefix": made.secret[:10]}, now=now)
        return made, name, visit

    answer = await _as_owner(request, write)
    if isinstance(answer, Response):
        return answer
    made, name, visit = answer
    response = page(request, visit, "dashboard/new_key.html",
                    {"name": name, "secret": made.secret, "section": "settings"}, 201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/keys/{key_id}/revoke")
async def revoke(request: Request, key_id: str) -> Response:
    def write(form: FormData, visit: Visit, session: Session, now: datetime) -> None:
        if not key_id.isdigit() or len(key_id) > 18:
            raise NotFound("key_not_found", f"no key {key_id!r}")
        if revoke_key(session, int(key_id), now):
            record_action(session, actor=visit.operator.actor, action="key.revoke",
                          target_type="key", target=key_id, before=None, after=None, now=now)

    answer = await _as_owner(request, write)
    return answer if isinstance(answer, Response) else _done("revoke")
