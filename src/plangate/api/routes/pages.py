"""Hosted pages: where Checkout sends the customer back.

The success page grants nothing and trusts nothing in its URL: it polls
``GET /v1/checkout-sessions/{id}`` and says "Finalizing…" until the sync has created the
ownership (DESIGN.md, "The one rule"). The cancel page changes nothing.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from plangate.api.deps import Context
from plangate.errors import InvalidRequest
from plangate.services.access.redirects import validate_redirect_url
from plangate.settings import Settings

router = APIRouter(tags=["pages"], include_in_schema=False)

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f7f9; color: #1d2330; margin: 0; }
main { max-width: 28rem; margin: 12vh auto; background: #fff; border-radius: 12px;
       padding: 2rem 2.25rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); text-align: center; }
h1 { font-size: 1.35rem; margin: 0 0 .5rem; }
p { color: #4a5263; line-height: 1.5; }
.spinner { width: 28px; height: 28px; margin: 0 auto 1rem; border-radius: 50%;
           border: 3px solid #d8dce4; border-top-color: #4f46e5;
           animation: spin 1s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
a.back { display: inline-block; margin-top: .75rem; color: #4f46e5; }
"""

_POLL = """
const el = document.querySelector('main');
const id = el.dataset.sessionId;
const title = document.querySelector('[data-testid=title]');
const detail = document.querySelector('[data-testid=detail]');
const spinner = document.querySelector('.spinner');
let delay = 1000, tries = 0;
function show(state, heading, text) {
  el.dataset.state = state; title.textContent = heading; detail.textContent = text;
  if (state !== 'finalizing') spinner.remove();
}
async function poll() {
  tries += 1;
  try {
    const r = await fetch('../v1/checkout-sessions/' + encodeURIComponent(id),
                          {headers: {'Accept': 'application/json'}});
    if (r.status === 404) { show('unknown', 'Checkout not found',
      'This link does not name a checkout. Nothing was charged through it.'); return; }
    if (r.ok) {
      const s = await r.json();
      if (s.fulfilled) { show('fulfilled', 'You\\u2019re all set',
        'Your purchase is active. You can close this page and return to the app.'); return; }
      if (s.status === 'expired') { show('expired', 'This checkout expired',
        'Nothing was charged. Start a new checkout from the app.'); return; }
    }
  } catch (e) { /* the network blinked: keep polling */ }
  if (tries === 30) { detail.textContent =
    'Payment can take a little longer to confirm. This page updates by itself.'; }
  delay = Math.min(delay * 1.2, 5000);
  setTimeout(poll, delay);
}
poll();
"""


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='referrer' content='no-referrer'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; connect-src 'self'",
            "X-Frame-Options": "DENY",
        },
    )


def _way_back(settings: Settings, return_url: str | None) -> str:
    """A link back to the app: ``return_url`` when it is on an allowed origin (the same rule
    as checkout's redirect URLs), else the first allowed origin without a wildcard; nothing
    when plangate does not know where the app is."""
    target = None
    if return_url:
        try:
            target = validate_redirect_url(return_url, settings, param="return_url")
        except InvalidRequest:
            target = None
    if target is None:
        target = next((o + "/" for o in settings.allowed_origins if "*" not in o), None)
    if target is None:
        return ""
    return (
        f"<p><a class='back' data-testid='back' href='{escape(target, quote=True)}'>"
        "Back to the app</a></p>"
    )


ReturnUrl = Annotated[
    str | None, Query(max_length=2048, description="where the 'Back to the app' link goes")
]


@router.get("/checkout/success", response_class=HTMLResponse)
def checkout_success(
    ctx: Context,
    session_id: Annotated[str | None, Query(max_length=255)] = None,
    return_url: ReturnUrl = None,
) -> HTMLResponse:
    back = _way_back(ctx.settings, return_url)
    if not session_id:
        return _page(
            "Checkout",
            "<main data-state='unknown'><h1 data-testid='title'>Checkout not found</h1>"
            f"<p data-testid='detail'>This link does not name a checkout.</p>{back}</main>",
            status=400,
        )
    body = (
        f"<main data-session-id='{escape(session_id, quote=True)}' data-state='finalizing'>"
        "<div class='spinner' aria-hidden='true'></div>"
        "<h1 data-testid='title'>Finalizing\u2026</h1>"
        "<p data-testid='detail'>We are confirming your payment with the payment provider. "
        f"This usually takes a few seconds.</p>{back}</main>"
        f"<script>{_POLL}</script>"
    )
    return _page("Finalizing your purchase", body)


@router.get("/checkout/canceled", response_class=HTMLResponse)
def checkout_canceled(ctx: Context, return_url: ReturnUrl = None) -> HTMLResponse:
    return _page(
        "Checkout canceled",
        "<main data-state='canceled'><h1 data-testid='title'>Checkout canceled</h1>"
        "<p data-testid='detail'>Nothing was charged and nothing changed. "
        f"You can close this page and return to the app.</p>{_way_back(ctx.settings, return_url)}"
        "</main>",
    )
