"""Server-rendered pages: the operators' dashboard (``/dashboard``), and the shared pieces
every page uses (base layout, security headers, CSRF, templates). Pages read through services
and act through the same service calls as the API."""

from plangate.web.site import create_site

__all__ = ["create_site"]
