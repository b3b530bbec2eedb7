"""Where a webhook may go: no loopback, private, link-local or metadata address unless the
operator allowed its network (``PLANGATE_WEBHOOK_ALLOWED_NETWORKS``).

The check runs on the addresses the name resolves to, at creation and again before every
attempt, and the attempt connects to the address that was checked (the name goes in the
``Host`` header and TLS SNI), so a name that re-resolves elsewhere cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from plangate.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048


class DestinationRefused(InvalidRequest):
    """A URL plangate will not call."""


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{host}:{self.port}{self.target}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def parse_url(url: str) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRefused("url_invalid", "the URL is too long", param="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DestinationRefused("url_invalid", f"{url!r} is not a URL", param="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(
            "url_invalid", "a webhook URL is http:// or https:// with a host", param="url"
        )
    if parts.username or parts.password:
        raise DestinationRefused("url_invalid", "a webhook URL carries no credentials",
                                 param="url")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), target


def _forbidden(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _forbidden(address.ipv4_mapped)
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(url: str, allowed_networks: Sequence[str]) -> Destination:
    """The destination of ``url``, or :class:`DestinationRefused` naming why not."""
    scheme, host, port, target = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise DestinationRefused(
            "url_unresolvable", f"{host!r} does not resolve", param="url"
        ) from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    networks = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
    for address in addresses:
        if _forbidden(address) and not any(address in network for network in networks):
            raise DestinationRefused(
                "url_forbidden",
                f"{host!r} resolves to {address}, a loopback, private, link-local or "
                "metadata address; allow its network with PLANGATE_WEBHOOK_ALLOWED_NETWORKS",
                param="url",
            )
    return Destination(url, scheme, host, port, target, addresses[0])
