from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Schema
from pydantic import Field

from trefpunt.core.api_schema import InSchema


class EventKindOut(Schema):
    key: str
    label: str


class EndpointIn(InSchema):
    url: str = Field(max_length=500, description="An https URL on a public address.")
    events: list[str] = Field(max_length=50, description="Event kinds (GET /webhooks/events).")
    organisation: str | None = Field(
        default=None,
        max_length=60,
        description="An organisation's address (slug) you own or administer: the endpoint "
        "hears about the work posted in its name. Without it, about your own work.",
    )
    description: str = Field(default="", max_length=200)


class EndpointPatch(InSchema):
    url: str | None = Field(default=None, max_length=500)
    events: list[str] | None = Field(default=None, max_length=50)


class EndpointOut(Schema):
    id: UUID
    url: str
    description: str
    events: list[str]
    organisation: str | None
    is_active: bool
    failing_since: datetime | None
    disabled_at: datetime | None
    created_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(
        description="The signing secret. Shown only now: keep it with your receiver."
    )


class AttemptOut(Schema):
    number: int
    at: datetime
    status_code: int | None
    error: str
    response_excerpt: str
    duration_ms: int


class DeliveryOut(Schema):
    id: UUID
    event: str
    event_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    redelivery_of: UUID | None
    payload: dict[str, object]
    attempt_log: list[AttemptOut]


class DeliveryPage(Schema):
    count: int
    page: int
    pages: int
    results: list[DeliveryOut]
