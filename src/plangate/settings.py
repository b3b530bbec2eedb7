"""Settings from ``PLANGATE_*`` environment variables.

Build them with :func:`load_settings`: a mistake in the environment is then one
:class:`ConfigError` line naming the variable, not a validation traceback.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# A list in the environment: a JSON array or comma-separated values.
EnvList = Annotated[list[str], NoDecode]
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class Settings(BaseSettings):
    """Everything an installation configures. Each field reads ``PLANGATE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PLANGATE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///.plangate/plangate.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where plangate is reached; hosted pages and success URLs are built on it",
    )
    gateway: Literal["test", "stripe"] = Field(
        default="test", description="test (free purchases, no Stripe) or stripe"
    )
    stripe_api_key: str = Field(default="", description="Stripe secret key (sk_live_/sk_test_)")
    stripe_api_base: str = Field(
        default="", description="Stripe API base address; empty for api.stripe.com"
    )
    stripe_webhook_secret: str = Field(default="", description="whsec_... of the endpoint")
    block_new_purchases: bool = Field(default=False, description="refuse new checkouts")
    stripe_automatic_tax: bool = Field(
        default=False, description="Stripe Tax computes tax on every checkout and its invoices"
    )
    stripe_tax_id_collection: bool = Field(
        default=False, description="checkouts let business customers enter a tax id"
    )
    stripe_billing_address_collection: Literal["auto", "required"] = Field(
        default="auto",
        description="`required`: checkouts always ask for the billing address; `auto`: "
        "only when tax needs it",
    )
    allowed_origins: EnvList = Field(
        default_factory=list, description="origins allowed in success/cancel/return URLs"
    )
    secret_keys: EnvList = Field(
        default_factory=list,
        description="extra accepted secret keys (plain text), besides the hashed stored ones",
    )
    log_level: str = Field(default="info", description=f"one of {', '.join(LOG_LEVELS)}")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json: one object per line with the request or "
        "event id"
    )
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest request body accepted (413 above)"
    )

    # --- client authentication (docs/auth.md) ------------------------------------------------
    identity_jwks_url: str = Field(
        default="", description="JWKS URL of the app's identity provider (RS256, ES256, EdDSA)"
    )
    identity_hs256_secret: str = Field(
        default="", description="shared HS256 secret of the identity provider (instead of JWKS)"
    )
    identity_issuer: str = Field(default="", description="required `iss` of identity tokens")
    identity_audience: str = Field(default="", description="required `aud` of identity tokens")
    identity_leeway_seconds: int = Field(
        default=30, ge=0, le=300, description="clock skew allowed on exp / nbf / iat"
    )
    identity_user_claim: str = Field(
        default="sub", description="claim holding the user id (dotted path for nested claims)"
    )
    identity_team_claim: str = Field(
        default="org_id", description="claim holding the active team id; empty to ignore"
    )
    identity_role_claim: str = Field(
        default="org_role", description="claim holding the caller's role in that team"
    )
    identity_admin_roles: EnvList = Field(
        default_factory=lambda: ["org:admin", "admin"],
        description="role claim values that make the caller an admin of the team",
    )
    identity_jwks_cache_seconds: int = Field(
        default=3600, ge=0, description="how long fetched JWKS keys are used before a refetch"
    )
    identity_jwks_miss_seconds: int = Field(
        default=30,
        ge=0,
        description="after a refetch that still lacks a token's kid, no refetch for this long",
    )
    identity_webhook_secret: str = Field(
        default="",
        description="whsec_ secret of the identity provider's user and organization webhooks "
        "(Standard Webhooks, as Clerk's Svix sends them); empty: the endpoint is off",
    )
    identity_webhook_tolerance_seconds: int = Field(
        default=300, ge=1, le=3600, description="largest clock gap of an identity webhook"
    )
    identity_deleted_policy: Literal["cancel_at_period_end", "keep"] = Field(
        default="cancel_at_period_end",
        description="what a deleted user or organization does to its subscriptions",
    )
    dispute_policy: Literal["keep_access", "suspend"] = Field(
        default="keep_access",
        description="keep_access, or suspend the product a disputed payment bought until the "
        "dispute is won",
    )
    customer_session_max_seconds: int = Field(
        default=3600, ge=60, le=86400, description="longest lifetime of a customer-session token"
    )
    entitlement_token_seconds: int = Field(
        default=300, ge=10, le=86400, description="lifetime of entitlement tokens"
    )
    signing_key_secret: str = Field(
        default="",
        description="if set, signing private keys are stored encrypted with a key derived from it",
    )

    # --- hosted pricing pages and the embeddable table (docs/pages.md) ---------------------
    sign_in_url: str = Field(
        default="",
        description="the app's sign-in page; signed-out visitors of a pricing page go there "
        "with return_url (it must be on PLANGATE_ALLOWED_ORIGINS or PLANGATE_BASE_URL)",
    )
    brand_name: str = Field(
        default="", max_length=80,
        description="the operator's name on the hosted pages and in every email (emails say "
        "'plangate' when it is empty)",
    )
    brand_color: str = Field(
        default="#4f46e5", description="accent colour of the hosted pages: #rgb or #rrggbb"
    )
    brand_logo_url: str = Field(
        default="", description="an https (or http) image shown on the hosted pages"
    )
    brand_font: str = Field(
        default="", max_length=200,
        description="the hosted pages' font: a CSS font-family list of fonts the visitor has "
        "(the pages load no web fonts), e.g. 'Inter, \"Helvetica Neue\", sans-serif'",
    )
    cors_origins: EnvList = Field(
        default_factory=list,
        description="origins whose pages may call the public pricing route and create "
        "checkouts with a client token from the browser (the embeddable pricing table)",
    )

    # --- Stripe sync (docs/stripe.md) ----------------------------------------------------
    stripe_test_clock: str = Field(
        default="",
        description="test mode only: new Stripe customers join this test clock (clock_...)",
    )
    stripe_rate_limit: float | None = Field(
        default=None,
        ge=0,
        description="Stripe requests per second shared by every process of the installation; "
        "empty: 20 with a test key, 80 with a live key; 0: no limit",
    )
    stripe_timeout_seconds: float = Field(
        default=30.0, gt=0, description="a Stripe answer later than this is a failed attempt"
    )
    stripe_max_retries: int = Field(
        default=5, ge=0, le=20,
        description="retries of a Stripe request after 429, 409, 5xx or a connection error",
    )
    stripe_request_deadline_seconds: float = Field(
        default=10.0, gt=0,
        description="an API request's Stripe call starts no retry past this many seconds; "
        "the request then answers 503 gateway_unavailable with Retry-After (workers retry "
        "for the whole of PLANGATE_STRIPE_MAX_RETRIES)",
    )
    stripe_list_reads: bool = Field(
        default=True,
        description="in a renewal burst, read subscriptions and payment intents 100 per "
        "Stripe call (docs/stripe.md); off: one fetch per object per batch",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often an idle worker looks for pending events"
    )
    worker_lease_seconds: int = Field(
        default=120, ge=5, description="how long a claimed event is reserved for its worker"
    )
    worker_max_attempts: int = Field(
        default=12, ge=1, description="attempts before an event is marked failed"
    )
    reconcile_interval_seconds: int = Field(
        default=3600, ge=0, description="how often the worker reconciles with Stripe; 0: never"
    )

    # --- operations (docs/operations.md) ------------------------------------------------
    metrics_token: str = Field(
        default="",
        description="bearer token GET /metrics requires; empty: /metrics answers loopback "
        "clients only",
    )
    health_max_lag_seconds: int = Field(
        default=0,
        ge=0,
        description="/healthz answers 503 while the Stripe worker is more than this many "
        "seconds behind; 0: it reports the lag and stays 200",
    )

    # --- outbound webhooks (docs/webhooks.md) ----------------------------------------------
    webhook_allowed_networks: EnvList = Field(
        default_factory=list,
        description="networks (CIDR) webhook endpoints may reach although private or loopback; "
        "plangate dev allows 127.0.0.0/8 and ::1",
    )
    webhook_timeout_seconds: float = Field(
        default=15.0, gt=0, le=60, description="an answer later than this is a failed attempt"
    )
    webhook_rotation_overlap_seconds: int = Field(
        default=86400, ge=0, description="after a secret rotation, the old secret also signs "
        "for this long"
    )
    delivery_lease_seconds: int = Field(
        default=60, ge=5, description="how long a claimed webhook delivery is its worker's"
    )
    outbox_listen: bool = Field(
        default=True,
        description="outbox workers wake when a fact commits (in-process, and through "
        "PostgreSQL LISTEN/NOTIFY from other processes); false: they only poll",
    )
    outbox_retention_days: int = Field(
        default=30, ge=1, le=3650,
        description="outbox facts delivered or failed this many days ago are deleted, with "
        "their deliveries and attempt logs; pending ones are kept",
    )

    # --- billing emails (docs/emails.md) ---------------------------------------------------
    smtp_url: str = Field(
        default="",
        description="smtp://user:password@host:port (add ?starttls=true), or smtps://... for "
        "TLS from the start; empty: emails are recorded as skipped, never sent",
    )
    email_from: str = Field(
        default="", description="the From address, e.g. 'Acme Billing <billing@acme.test>'"
    )
    email_operator: str = Field(
        default="", description="where operator notices go (a webhook endpoint disabled)"
    )
    email_disabled: EnvList = Field(
        default_factory=list,
        description="email kinds not sent: receipt, payment_failed, trial_ending, "
        "subscription_canceled, subscription_ended, endpoint_disabled, refund, dispute_created, "
        "dispute_closed",
    )
    email_templates_dir: str = Field(
        default="", description="a directory whose templates replace the built-in ones by name"
    )
    email_max_attempts: int = Field(
        default=8, ge=1, le=20, description="SMTP attempts before an email is marked failed"
    )
    smtp_timeout_seconds: float = Field(
        default=20.0, gt=0, le=120, description="an SMTP server silent this long fails the attempt"
    )

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if not value:
            return value
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"{value.split('@')[-1]!r} is not an SMTP URL like smtp://user:pass@host:587"
            )
        return value

    @field_validator("identity_webhook_secret")
    @classmethod
    def _identity_webhook_secret(cls, value: str) -> str:
        import base64
        import binascii

        if not value:
            return value
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            key = b""
        if not value.startswith("whsec_") or not key:
            raise ValueError("not a Standard Webhooks secret: whsec_ followed by base64")
        return value

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network like 10.0.0.0/8") from None
        return value

    @field_validator(
        "allowed_origins",
        "cors_origins",
        "secret_keys",
        "identity_admin_roles",
        "webhook_allowed_networks",
        "email_disabled",
        mode="before",
    )
    @classmethod
    def _env_list(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                raise ValueError("not a JSON array; write a JSON array or a,b,c") from None
        return [part.strip() for part in text.split(",") if part.strip()]

    @field_validator("allowed_origins", "cors_origins")
    @classmethod
    def _origins(cls, value: list[str], info: ValidationInfo) -> list[str]:
        # Redirects may go to any subdomain (https://*.preview.example.com); CORS is exact.
        wildcard_refused = info.field_name == "cors_origins"
        for origin in value:
            scheme, sep, rest = origin.partition("://")
            if (scheme not in ("http", "https") or not sep or not rest
                    or (wildcard_refused and "*" in rest) or "/" in rest.rstrip("/")):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
        return [origin.rstrip("/") for origin in value]

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str) -> str:
        if value and (len(value) < 16 or not value.isprintable() or " " in value):
            raise ValueError("use at least 16 printable characters without spaces")
        return value

    @field_validator("brand_color")
    @classmethod
    def _brand_color(cls, value: str) -> str:
        if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value):
            raise ValueError(f"{value!r} is not a colour like #4f46e5")
        return value.lower()

    @field_validator("brand_font")
    @classmethod
    def _brand_font(cls, value: str) -> str:
        family = r'(?:"[A-Za-z0-9 \-]+"|[A-Za-z][A-Za-z0-9\-]*(?: [A-Za-z0-9\-]+)*)'
        if value and not re.fullmatch(rf"{family}(?:\s*,\s*{family})*", value.strip()):
            raise ValueError(f"{value!r} is not a font-family list like "
                             "'Inter, \"Helvetica Neue\", sans-serif'")
        return value.strip()

    @field_validator("sign_in_url", "brand_logo_url")
    @classmethod
    def _page_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if (parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc
                or any(ch.isspace() or ch in "\\\"'<>" for ch in value)):
            raise ValueError(f"{value!r} is not an absolute http(s) URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(
                f"{value!r} is not a database URL: sqlite:///path or "
                "postgresql+psycopg://user@host/db"
            ) from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"{backend!r} is not supported: use sqlite or postgresql")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
        return value.lower()

    @property
    def stripe_calls_per_second(self) -> float:
        """The Stripe call budget in force: the setting, or a fifth below Stripe's own global
        limit for the key's mode (test 25/s, live 100/s); 0 means none."""
        if self.stripe_rate_limit is not None:
            return self.stripe_rate_limit
        live = self.stripe_api_key.startswith(("sk_live_", "rk_live_"))
        return 80.0 if live else 20.0


class ConfigError(ValueError):
    """A setting that cannot be used; the message is one line that names the variable."""


def load_settings(**values: Any) -> Settings:
    """The settings from the environment (``values`` win), or :class:`ConfigError`."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except SettingsError as exc:
        # pydantic-settings could not decode a value; its message names the field.
        raise ConfigError(str(exc).splitlines()[0]) from None


def describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) and error["type"] not in (
            "value_error",) else ""
        problems.append(f"PLANGATE_{field.upper()}{shown}: {message}")
    return "; ".join(problems)
