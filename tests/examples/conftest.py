from tests.browser_harness import browser, page  # noqa: F401 - Chromium fixtures for the example apps
