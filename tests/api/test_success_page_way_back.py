"""The hosted success and cancel pages lead back to the app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.settings import Settings
from plangate.store.db import Database


def pages(db: Database, **settings: object) -> TestClient:
    url = db.url.render_as_string(hide_password=False)
    return TestClient(create_app(Settings(database_url=url, gateway="test", **settings), db=db))


def test_the_success_page_links_to_the_apps_return_url(db: Database) -> None:
    http = pages(db, allowed_origins=["https://app.example.com"])
    page = http.get("/checkout/success", params={
        "session_id": "cs_1", "return_url": "https://app.example.com/billing?x=1&y=2"})
    assert "href='https://app.example.com/billing?x=1&amp;y=2'>Back to the app" in page.text
    # Without one, the app's origin; a URL elsewhere is not linked.
    for return_url in (None, "https://evil.example.net/"):
        params = {"session_id": "cs_1", **({"return_url": return_url} if return_url else {})}
        page = http.get("/checkout/success", params=params)
        assert "href='https://app.example.com/'>Back to the app" in page.text
        assert "evil" not in page.text
    canceled = http.get("/checkout/canceled")
    assert "href='https://app.example.com/'>Back to the app" in canceled.text


def test_no_link_when_plangate_does_not_know_the_app(db: Database) -> None:
    page = pages(db).get("/checkout/success", params={"session_id": "cs_1"})
    assert page.status_code == 200 and "Back to the app" not in page.text
