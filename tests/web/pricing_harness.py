"""The site with the example catalog and the pricing pages' settings, customer-session
tokens minted through the API, and reading a pricing page's forms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from plangate.clock import Clock
from plangate.services.access.keys import create_key
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.web import create_site

APP = "https://app.example.com"
SIGN_IN = APP + "/sign-in"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
UNSEEN = (Path(__file__).resolve().parents[1] / "fixtures" / "unseen_catalog.toml").read_text()


def page_settings(db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url.render_as_string(hide_password=False),
        "gateway": "test",
        "allowed_origins": [APP],
        "sign_in_url": SIGN_IN,
        "brand_name": "Acme <Cloud>",
        "brand_color": "#0E7490",
        "brand_font": '"DejaVu Sans", sans-serif',
        **overrides,
    }
    return Settings(**values)


def seed(db: Database, clock: Clock, catalog: str) -> str:
    """Applies ``catalog``; answers a secret key."""
    with db.write() as session:
        key = create_key(session, "seed", clock.now()).secret
    with TestClient(create_site(page_settings(db), db=db, clock=clock),
                    headers={"Authorization": f"Bearer {key}"}) as api:
        applied = api.put("/v1/catalog", content=catalog,
                          headers={"Content-Type": "application/toml"})
        assert applied.status_code == 200, applied.text
    return key


def mint(client: TestClient, key: str, user_id: str, teams: dict[str, str] | None = None,
         expires_in: int = 900) -> str:
    answer = client.post("/v1/customer-sessions",
                         json={"user_id": user_id, "teams": teams or {}, "expires_in": expires_in},
                         headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def form_fields(html: str) -> dict[str, str]:
    csrf, key = CSRF.search(html), FORM_KEY.search(html)
    assert csrf and key, "no checkout form on the page"
    return {"csrf_token": csrf.group(1), "form_key": key.group(1)}
