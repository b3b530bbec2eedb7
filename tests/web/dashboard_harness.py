"""The site (API and dashboard) over HTTP for the dashboard's tests, and signing in through
the real sign-in form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.operators import create_operator
from plangate.store.db import Database

PASSWORD = "a long enough password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+-grant)"')


def add_operator(db: Database, clock: FrozenClock, email: str, role: str) -> None:
    with db.write() as session:
        create_operator(session, email, role, PASSWORD, clock.now())


def csrf_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    form = client.get("/dashboard/login")
    answer = client.post(
        "/dashboard/login",
        data={"csrf_token": csrf_of(form.text), "email": email, "password": password},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client
