"""Reads of the webhooks, scoped to who may manage them: a person's own endpoints and those
of the organisations they own or administer. Anything else is not found."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound

from .models import WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def _managed(user: User) -> Q:
    from trefpunt.accounts.models import Membership, Role

    orgs = Membership.objects.filter(user=user, role__in=[Role.OWNER, Role.ADMIN]).values(
        "organisation_id"
    )
    return Q(user=user, organisation__isnull=True) | Q(organisation_id__in=orgs)


def endpoints_for_user(*, user: User) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(_managed(user)).select_related("organisation")


def endpoint_for_user(*, public_id: UUID | str, user: User) -> WebhookEndpoint:
    endpoint = endpoints_for_user(user=user).filter(public_id=public_id).first()
    if endpoint is None:
        raise NotFound(_("Webhook endpoint not found."))
    return endpoint


def deliveries_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.prefetch_related("attempt_log")


def delivery_for_user(*, public_id: UUID | str, user: User) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(public_id=public_id, endpoint__in=endpoints_for_user(user=user))
        .first()
    )
    if delivery is None:
        raise NotFound(_("Delivery not found."))
    return delivery
