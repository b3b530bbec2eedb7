"""Jinja2 with autoescape on for every template, and the filters pages share."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from plangate.domain.money import MoneyError, format_money

TEMPLATES = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _money(units: int, currency: str) -> str:
    try:
        return format_money(units, currency)
    except MoneyError:
        return f"{units} {currency.upper()}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "—"


_LABELS = {"day": "Daily", "week": "Weekly", "month": "Monthly", "year": "Yearly",
           "once": "One-time"}


def _interval_label(interval: str) -> str:
    """A billing-period toggle's label: "Monthly", "Every 3 months", "One-time"."""
    return _LABELS.get(interval, f"Every {interval}")


def _per_interval(interval: str) -> str:
    if interval == "once":
        return "once"
    return f"per {interval}" if " " not in interval else f"every {interval}"


environment.filters["money"] = _money
environment.filters["interval_label"] = _interval_label
environment.filters["per_interval"] = _per_interval
environment.filters["when"] = _when


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    page = environment.get_template(template)
    html = page.render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)
