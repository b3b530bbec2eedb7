"""A single-file Django project whose ``/export`` needs the ``export`` feature.

Needs the SDK with Django (``pip install 'plangate-sdk[django]'``;
in this repository ``make`` installs it).
With plangate running (``plangate dev``) and a secret key (``plangate keys create``):

    PLANGATE_API_KEY=sk_... python examples/django_app/app.py runserver 8001
    curl -H 'X-User-Id: u1' http://127.0.0.1:8001/export     # 403 feature_required

In a real project the settings below live in settings.py, ``PLANGATE`` names your gate by
its dotted path, and ``customer=`` reads ``request.user``.
"""

from __future__ import annotations

import logging
import os
import sys

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

from plangate_sdk import Client
from plangate_sdk.django import CustomerRef, Plangate, require

PRICING_URL = "https://example.com/pricing"


def api_key_from_env() -> str:
    """The secret key. Without one every call to plangate fails with 401, so say why now."""
    key = os.environ.get("PLANGATE_API_KEY", "")
    if not key:
        logging.getLogger("plangate.example").warning(
            "PLANGATE_API_KEY is not set: every call to plangate will fail with 401. Set it to "
            "the secret key `plangate dev` prints, or make one with `plangate keys create`."
        )
        return "sk_unset"
    return key


def signed_in_customer(request: HttpRequest) -> CustomerRef | None:
    """Who is signed in. A stand-in for ``request.user``: a header."""
    user_id = request.headers.get("X-User-Id")
    return ("user", user_id) if user_id else None


gate = Plangate(
    Client(
        api_key=api_key_from_env(),
        base_url=os.environ.get("PLANGATE_URL", "http://127.0.0.1:8000"),
    ),
    customer=signed_in_customer,
    pricing_url=PRICING_URL,
)

if not settings.configured:
    settings.configure(
        DEBUG=True,
        SECRET_KEY="example-only-not-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        PLANGATE=gate,
    )


@require(feature="export")
def export(request: HttpRequest) -> JsonResponse:
    customer_type, customer_id = request.plangate_customer
    return JsonResponse({"report": f"export for {customer_type}/{customer_id}"})


def home(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hello": "anyone may see this"})


urlpatterns = [path("export", export), path("", home)]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
