"""Outgoing webhooks under /api/v1/webhooks: register endpoints, read their delivery log,
redeliver. Endpoints and deliveries of someone else answer 404."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

from django.core.paginator import Paginator
from ninja import Query, Router, Schema, Status
from pydantic import Field

from trefpunt.accounts.models import Organisation
from trefpunt.core.api_schema import PAGE_MAX
from trefpunt.core.exceptions import NotFound
from trefpunt.core.types import AuthedRequest

from . import selectors, services
from .events import webhook_event_kinds
from .models import WebhookDelivery, WebhookEndpoint
from .schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointCreatedOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EventKindOut,
)

router = Router(tags=["webhooks"])
PAGE_SIZE = 20


class PageQuery(Schema):
    page: int = Field(default=1, ge=1, le=PAGE_MAX)


def _endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "organisation": endpoint.organisation.slug if endpoint.organisation else None,
        "is_active": endpoint.is_active,
        "failing_since": endpoint.failing_since,
        "disabled_at": endpoint.disabled_at,
        "created_at": endpoint.created_at,
    }


def _delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    first = delivery.redelivery_of
    return {
        "id": delivery.public_id,
        "event": delivery.event,
        "event_id": delivery.event_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "redelivery_of": first.public_id if first else None,
        "payload": delivery.payload,
        "attempt_log": list(delivery.attempt_log.all()),
    }


@router.get("/webhooks/events", response=list[EventKindOut], summary="Events you can receive")
def webhook_events_api(request: AuthedRequest) -> list[dict[str, str]]:
    return [{"key": k.key, "label": str(k.label)} for k in webhook_event_kinds()]


@router.get("/webhooks", response=list[EndpointOut], summary="Your webhook endpoints")
def endpoint_list_api(request: AuthedRequest) -> list[dict[str, Any]]:
    return [_endpoint_out(e) for e in selectors.endpoints_for_user(user=request.user)]


@router.post(
    "/webhooks",
    response={201: EndpointCreatedOut},
    summary="Register a webhook endpoint",
    description="Deliveries are signed (`Trefpunt-Signature`, see docs/webhooks.md). Only "
    "public addresses are accepted. The secret is in this answer only.",
)
def endpoint_create_api(request: AuthedRequest, data: EndpointIn) -> Status:
    organisation = None
    if data.organisation:
        organisation = Organisation.objects.filter(slug=data.organisation).first()
        if organisation is None:
            raise NotFound()
    endpoint = services.endpoint_create(
        user=request.user,
        url=data.url,
        events=data.events,
        organisation=organisation,
        description=data.description,
    )
    return Status(201, {**_endpoint_out(endpoint), "secret": endpoint.secret})


@router.get("/webhooks/{endpoint_id}", response=EndpointOut, summary="One webhook endpoint")
def endpoint_get_api(request: AuthedRequest, endpoint_id: UUID) -> dict[str, Any]:
    return _endpoint_out(selectors.endpoint_for_user(public_id=endpoint_id, user=request.user))


@router.patch("/webhooks/{endpoint_id}", response=EndpointOut, summary="Change an endpoint")
def endpoint_update_api(
    request: AuthedRequest, endpoint_id: UUID, data: EndpointPatch
) -> dict[str, Any]:
    endpoint = selectors.endpoint_for_user(public_id=endpoint_id, user=request.user)
    updated = services.endpoint_update(endpoint=endpoint, url=data.url, events=data.events)
    return _endpoint_out(updated)


@router.delete("/webhooks/{endpoint_id}", response={204: None}, summary="Remove an endpoint")
def endpoint_delete_api(request: AuthedRequest, endpoint_id: UUID) -> Status:
    endpoint = selectors.endpoint_for_user(public_id=endpoint_id, user=request.user)
    services.endpoint_delete(endpoint=endpoint)
    return Status(204, None)


@router.post(
    "/webhooks/{endpoint_id}/enable",
    response=EndpointOut,
    summary="Enable an endpoint again (after it was disabled for failing)",
)
def endpoint_enable_api(request: AuthedRequest, endpoint_id: UUID) -> dict[str, Any]:
    endpoint = selectors.endpoint_for_user(public_id=endpoint_id, user=request.user)
    return _endpoint_out(services.endpoint_enable(endpoint=endpoint))


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response=DeliveryPage,
    summary="The endpoint's delivery log, newest first, with every attempt",
)
def delivery_list_api(
    request: AuthedRequest, endpoint_id: UUID, query: Query[PageQuery]
) -> dict[str, Any]:
    endpoint = selectors.endpoint_for_user(public_id=endpoint_id, user=request.user)
    rows = selectors.deliveries_for_endpoint(endpoint=endpoint).select_related("redelivery_of")
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(query.page)
    return {
        "count": paginator.count,
        "page": page.number,
        "pages": max(1, math.ceil(paginator.count / PAGE_SIZE)),
        "results": [_delivery_out(d) for d in page.object_list],
    }


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut},
    summary="Send a delivery's event again",
    description="A new delivery with the same event id and body; the receiver can tell it "
    "already has the event.",
)
def delivery_redeliver_api(request: AuthedRequest, delivery_id: UUID) -> Status:
    delivery = selectors.delivery_for_user(public_id=delivery_id, user=request.user)
    copy = services.delivery_redeliver(delivery=delivery, user=request.user)
    return Status(202, _delivery_out(copy))
