"""Debian's Chromium driven by Playwright, for the tests of hosted pages; screenshots of what
a test saw go to `tests/.screenshots/` (ignored by git) for a person to look at."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / ".screenshots"
requires_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"browser tests need Debian's chromium at {CHROMIUM}")
needs_browser = [pytest.mark.browser, requires_chromium]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_in_thread(app: Any, port: int | None = None) -> tuple[str, Any, threading.Thread]:
    """``app`` under uvicorn on ``port`` (else a free loopback port), in a daemon thread,
    once it listens: (its URL, the server (set ``should_exit`` to stop it), the thread)."""
    from tests.serving import PromptServer

    port = port or free_port()
    server = PromptServer.for_app(app, host="127.0.0.1", port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, thread
