"""Where plangate may send a browser back to: success, cancel and return URLs.

A checkout or portal link that redirects anywhere the caller names is an open redirect (a
phishing page reached through the app's own payment flow), so every such URL must be on an
origin the installation allows (``PLANGATE_ALLOWED_ORIGINS``) or plangate's own ``base_url``.
Origins match exactly (scheme, host, port); ``https://*.example.com`` allows its subdomains.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from plangate.errors import InvalidRequest
from plangate.settings import Settings

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(parts: SplitResult) -> tuple[str, str, int] | None:
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port


def _display(origin: tuple[str, str, int]) -> str:
    # The origin as it is written in PLANGATE_ALLOWED_ORIGINS: the port unless the default.
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if _DEFAULT_PORTS[scheme] == port else f"{scheme}://{host}:{port}"


def _matches(origin: tuple[str, str, int], allowed: str) -> bool:
    wildcard = "://*." in allowed
    wanted = _origin(urlsplit(allowed.replace("://*.", "://", 1)))
    if wanted is None:
        return False
    scheme, host, port = origin
    if (scheme, port) != (wanted[0], wanted[2]):
        return False
    if wildcard:
        return host.endswith("." + wanted[1])
    return host == wanted[1]


def validate_redirect_url(url: str, settings: Settings, *, param: str = "success_url") -> str:
    """``url`` if it is an absolute http(s) URL on an allowed origin, else 400
    ``redirect_url_not_allowed`` (raised before anything is created with it)."""

    def refuse(reason: str) -> InvalidRequest:
        return InvalidRequest(
            "redirect_url_not_allowed",
            f"{param} {reason}; allowed origins are set with PLANGATE_ALLOWED_ORIGINS",
            param=param,
        )

    if not url or len(url) > MAX_URL_LENGTH:
        raise refuse(f"must be 1 to {MAX_URL_LENGTH} characters")
    # Browsers read "\" as "/" and drop tabs and newlines, so a URL holding them can name a
    # different origin to the browser than to this parser.
    if "\\" in url or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise refuse("contains characters that are not allowed in a URL")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise refuse("must not contain credentials")
    origin = _origin(parts)
    if origin is None:
        raise refuse("must be an absolute http or https URL")
    allowed = [*settings.allowed_origins, settings.base_url]
    if not any(_matches(origin, candidate) for candidate in allowed):
        raise refuse(f"is not on an allowed origin ({_display(origin)})")
    return url
