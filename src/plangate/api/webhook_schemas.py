"""Bodies of the webhook endpoint routes (api/routes/webhook_endpoints.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookEndpointIn(_Strict):
    url: str = Field(max_length=2048, description="http(s) URL that receives the events")
    event_types: list[str] = Field(
        default_factory=list, max_length=64, description="types to send; empty: every type"
    )
    description: str = Field(default="", max_length=500)


class WebhookEndpointPatch(_Strict):
    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=500)
    disabled: bool | None = None


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    disabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    secret: str | None = Field(
        default=None, description="whsec_...: shown on creation and rotation only"
    )


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointOut]


class WebhookAttemptOut(BaseModel):
    id: int
    message_id: str
    endpoint_id: str
    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    duration_ms: int
    response: str = Field(description="the first 1 KB of the answer, or why there was none")


class WebhookAttemptList(BaseModel):
    data: list[WebhookAttemptOut]


class ReplayIn(_Strict):
    message_id: str | None = Field(default=None, max_length=40)
    since: AwareDatetime | None = Field(
        default=None,
        description="replay every failed message created since this time (with a UTC offset)",
    )


class ReplayOut(BaseModel):
    queued: int
