"""An example app started without its API key tells the developer, instead of failing later
with a bare 401."""

from __future__ import annotations

import logging

import pytest

from .examples import load_example


@pytest.mark.parametrize("relative", ["fastapi_app/app.py", "flask_app/app.py"])
def test_an_example_without_an_api_key_logs_the_misconfiguration(
    relative: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="plangate.example"):
        load_example(relative, f"plangate_example_nokey_{relative.split('/')[0]}",
                     api_key="", base_url="http://127.0.0.1:9")
    assert any("PLANGATE_API_KEY is not set" in r.getMessage() for r in caplog.records)


def test_an_example_with_a_key_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="plangate.example"):
        load_example("fastapi_app/app.py", "plangate_example_withkey",
                     api_key="sk_given", base_url="http://127.0.0.1:9")
    assert not [r for r in caplog.records if r.name == "plangate.example"]
