"""The site served by uvicorn on a free port, for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from plangate.clock import Clock
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.web import create_site
from tests.browser_harness import serve_in_thread

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"


@contextmanager
def serving(db: Database, clock: Clock, **overrides: Any) -> Iterator[str]:
    """The site on the test gateway, unless ``overrides`` (Settings' fields) say otherwise."""
    settings = Settings(**{"database_url": db.url.render_as_string(hide_password=False),
                           "gateway": "test", **overrides})
    url, server, thread = serve_in_thread(create_site(settings, db=db, clock=clock))
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page. Evaluated through the
    DevTools protocol, which the page's CSP does not govern."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
