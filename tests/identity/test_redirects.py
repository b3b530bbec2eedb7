"""success_url, cancel_url and return_url can't send a browser off the app's origins."""

from __future__ import annotations

import pytest

from plangate.errors import InvalidRequest
from plangate.services.access.redirects import validate_redirect_url
from plangate.settings import Settings
from tests.identity.conftest import ALLOWED_ORIGINS, BASE_URL

SETTINGS = Settings(base_url=BASE_URL, allowed_origins=ALLOWED_ORIGINS)

ALLOWED = [
    "https://app.example.com/billing/done?session_id={CHECKOUT_SESSION_ID}",
    "https://APP.example.com:443/x",
    "https://app.example.com",
    "https://pr-12.preview.example.com/after",
    f"{BASE_URL}/hosted/done",
]

REFUSED = [
    "https://evil.example.org/phish",  # another site
    "https://app.example.com.evil.org/x",  # a suffix
    "https://evilapp.example.com/x",  # a sibling
    "http://app.example.com/x",  # downgraded scheme
    "https://app.example.com:8443/x",  # another port
    "https://app.example.com@evil.org/x",  # credentials trick: the host is evil.org
    "https://user:pw@app.example.com/x",  # credentials
    "https://app.example.com\\@evil.org/",  # browsers read \ as /
    "//evil.org/x",  # scheme-relative
    "/relative/path",  # no origin
    "javascript:alert(1)",
    "data:text/html,hi",
    "https://app.example.com/x\n",  # control characters
    "https://preview.example.com/x",  # the wildcard's apex is not a subdomain
    "https:///app.example.com",
    "",
    "https://app.example.com/" + "a" * 3000,
]


@pytest.mark.parametrize("url", ALLOWED)
def test_urls_on_allowed_origins_pass(url: str) -> None:
    assert validate_redirect_url(url, SETTINGS) == url


@pytest.mark.parametrize("url", REFUSED)
def test_open_redirects_are_refused_with_a_stable_code(url: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        validate_redirect_url(url, SETTINGS, param="cancel_url")
    assert refused.value.code == "redirect_url_not_allowed"
    assert refused.value.param == "cancel_url"


def test_with_no_allowed_origins_only_plangate_itself_is_allowed() -> None:
    settings = Settings(base_url=BASE_URL)
    assert validate_redirect_url(f"{BASE_URL}/x", settings)
    with pytest.raises(InvalidRequest):
        validate_redirect_url("https://app.example.com/x", settings)


def test_a_refusal_names_the_origin_with_its_port() -> None:
    with pytest.raises(InvalidRequest) as refused:
        validate_redirect_url("http://localhost:3000/done", SETTINGS)
    assert "(http://localhost:3000)" in refused.value.message
    with pytest.raises(InvalidRequest) as refused:
        validate_redirect_url("https://elsewhere.example/done", SETTINGS)
    assert "(https://elsewhere.example)" in refused.value.message
