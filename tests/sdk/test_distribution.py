"""The SDK is its own light distribution: its wheel, installed into a fresh virtual
environment, brings httpx, pydantic and PyJWT but nothing of the server, and talks to a real
plangate (a call, the customer handle, an async call, and an offline has() from a verified
entitlement token)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.wheels import SDK, build_wheels, installed_distributions, sh, venv_with

from .conftest import RunningServer

SERVER_DISTRIBUTIONS = {
    "plangate", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg",
    "psycopg-binary", "psycopg-pool", "stripe", "typer", "pydantic-settings",
}

APP = """
import asyncio, json, sys
from plangate_sdk import AsyncClient, Client, OfflineEntitlements

key, url, user = sys.argv[1:4]
with Client(key, url) as plangate:
    me = plangate.customer("user", user)
    me.upsert(email="dist@example.com")
    before = me.has(feature="export")
    me.grant("pro")
    after = me.has(feature="export")
    offline = OfflineEntitlements(plangate).has("user", user, feature="export")

async def remaining() -> int:
    async with AsyncClient(key, url) as plangate:
        return (await plangate.customer("user", user).consume("credits", 5)).quantity

print(json.dumps({"before": before, "after": after, "offline": offline,
                  "credits": asyncio.run(remaining())}))
"""


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("sdk-wheel")
    return venv_with(work, *build_wheels(work / "dist", SDK))


def test_the_sdk_installs_without_the_server(sdk_python: Path) -> None:
    installed = installed_distributions(sdk_python)
    assert {"plangate-sdk", "httpx", "pydantic", "pyjwt", "cryptography"} <= installed
    assert not installed & SERVER_DISTRIBUTIONS, installed & SERVER_DISTRIBUTIONS


def test_the_installed_sdk_calls_a_real_plangate(
    sdk_python: Path, plangate_server: RunningServer, user_id: str, tmp_path: Path
) -> None:
    # Run outside the repository, so only the installed wheel can be imported.
    (tmp_path / "app.py").write_text(APP)
    out = sh(sdk_python, "app.py", plangate_server.secret_key, plangate_server.base_url,
             user_id, cwd=tmp_path)
    assert json.loads(out) == {"before": False, "after": True, "offline": True, "credits": 4995}
    where = sh(sdk_python, "-c", "import plangate_sdk; print(plangate_sdk.__file__)",
               cwd=tmp_path)
    assert str(SDK) not in where and "site-packages" in where
