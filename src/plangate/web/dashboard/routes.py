"""The dashboard's pages: sign-in and out, the overview, customers. Actions are in
``actions.py``. Every handler resolves the operator first and sends strangers to sign in."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.domain.money import format_money
from plangate.errors import PlangateError
from plangate.services.admin import customers, figures, mrr_history
from plangate.services.operators import sign_in, sign_out
from plangate.web.dashboard import (
    access_page,
    actions,
    catalog_actions,
    catalog_page,
    deliveries_page,
    events_page,
    payouts_page,
    settings_page,
    transactions_page,
)
from plangate.web.dashboard.auth import (
    COOKIE_PATH,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    context_of,
    current_visit,
    set_session_cookie,
)
from plangate.web.dashboard.charts import bar_chart, line_chart
from plangate.web.dashboard.customer_page import customer_page
from plangate.web.dashboard.respond import page, posted_form, to_login
from plangate.web.security import new_token, tokens_match
from plangate.web.templating import render

router = APIRouter(prefix="/dashboard", include_in_schema=False)
router.include_router(actions.router)
router.include_router(deliveries_page.router)
router.include_router(events_page.router)
router.include_router(settings_page.router)
router.include_router(access_page.router)
router.include_router(transactions_page.router)
router.include_router(payouts_page.router)
router.include_router(catalog_page.router)
router.include_router(catalog_actions.router)


def _login_form(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    token = new_token()
    nxt = request.query_params.get("next", "/dashboard")
    response = render(
        request, "dashboard/login.html",
        {"login_csrf": token, "error": error, "next": nxt if nxt.startswith("/dashboard") else
         "/dashboard"},
        status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path=COOKIE_PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    return _login_form(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    given = form.get("csrf_token")
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE),
                        given if isinstance(given, str) else None):
        return _login_form(request, "The form expired; sign in again.", 403)
    client = request.client.host if request.client else "?"
    if not request.app.state.login_throttle.allow(client):
        return _login_form(request, "Too many attempts from here; wait a minute.", 429)
    ctx = context_of(request)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    try:
        signed = await run_in_threadpool(sign_in, ctx.db, email, password, ctx.clock.now())
    except PlangateError as exc:
        message = ("Too many wrong passwords: this account is locked for a while."
                   if exc.code == "account_locked" else "Wrong email or password.")
        return _login_form(request, message, 401)
    nxt = str(form.get("next", "/dashboard"))
    response = RedirectResponse(nxt if nxt.startswith("/dashboard") else "/dashboard", 303)
    set_session_cookie(request, response, signed)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    checked = await posted_form(request, None)
    if isinstance(checked, Response):
        return checked
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(sign_out, context_of(request).db, token)
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@router.get("")
def overview(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    ctx = context_of(request)
    found = figures.compute_figures(ctx.db, ctx.clock.now(), days=30)
    summary = found.to_dict()
    revenue_charts = [
        bar_chart(
            f"Net revenue per day ({series['currency'].upper()})",
            [(d["date"], d["amount"], d["amount_decimal"]) for d in series["days"]],
        )
        for series in summary["revenue_per_day"]
    ]
    consumption_charts = [
        bar_chart(
            f"{series['item_id']} consumed per day",
            [(d["date"], d["quantity"], str(d["quantity"])) for d in series["days"]],
        )
        for series in summary["consumed_per_day"]
    ]
    mrr_charts = [
        line_chart(f"MRR over time ({currency.upper()})",
                   [(d.day.isoformat(), d.mrr, format_money(d.mrr, currency)) for d in days])
        for currency, days in mrr_history.mrr_per_day(ctx.db, ctx.clock.now(), days=30).items()
    ] or [line_chart("MRR over time", [])]
    status_chart = bar_chart(
        "Subscriptions by status",
        [(s, n, str(n)) for s, n in summary["subscriptions_by_status"].items()],
    )
    return page(request, visit, "dashboard/overview.html", {
        "figures": summary, "revenue_charts": revenue_charts, "mrr_charts": mrr_charts,
        "consumption_charts": consumption_charts, "status_chart": status_chart,
        "section": "overview",
    })


@router.get("/customers")
def customer_list(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    q = request.query_params.get("q") or None
    cursor = request.query_params.get("cursor") or None
    error = None
    try:
        rows, next_cursor = customers.list_customers(
            context_of(request).db, query=q, limit=25, cursor=cursor
        )
    except PlangateError as exc:
        rows, next_cursor, error = [], None, exc.message
    template = ("dashboard/_customer_rows.html" if request.headers.get("hx-request")
                else "dashboard/customers.html")
    return page(request, visit, template, {
        "rows": rows, "q": q or "", "next_cursor": next_cursor, "error": error,
        "section": "customers",
    }, 400 if error else 200)


@router.get("/customers/{customer_type}/{customer_id}")
def customer_detail(request: Request, customer_type: str, customer_id: str) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    return customer_page(request, visit, customer_type, customer_id)
