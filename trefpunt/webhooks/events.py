"""The events a webhook endpoint can listen to, registered by the modes.

A mode declares its event kinds in its own ``webhooks.py`` (imported when the app starts)::

    webhook_events_register(
        WebhookEventKind("contest.awarded", _("A contest of yours was awarded")),
    )

and its service calls ``webhook_emit`` inside the transaction that made the event happen::

    webhook_emit(event="contest.awarded", event_id=f"contest:{c.pk}:awarded",
                 user_id=c.created_by_id, organisation_id=c.organisation_id, data={...})

Nothing is sent unless that transaction commits. ``event_id`` names the event for good: an
endpoint gets one delivery per ``event_id`` however often the service is repeated, and the
receiver sees it in the payload so it can ignore a redelivery it already has. Work posted in
an organisation's name goes to the organisation's endpoints, other work to the poster's own.
``data`` must be JSON: ids, numbers, strings, absolute URLs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import transaction


@dataclass(frozen=True)
class WebhookEventKind:
    key: str
    label: Any = ""


_KINDS: dict[str, WebhookEventKind] = {}


def webhook_events_register(*kinds: WebhookEventKind) -> None:
    for kind in kinds:
        _KINDS[kind.key] = kind


def webhook_event_kinds() -> list[WebhookEventKind]:
    return sorted(_KINDS.values(), key=lambda k: k.key)


def webhook_event_known(key: str) -> bool:
    return key in _KINDS


def webhook_events_discover() -> None:
    """Import every app's ``webhooks`` module, where it registers its event kinds."""
    for config in apps.get_app_configs():
        if config.name.startswith("trefpunt.") and config.name != "trefpunt.webhooks":
            try:
                import_module(f"{config.name}.webhooks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.webhooks":
                    raise


def webhook_emit(
    *,
    event: str,
    event_id: str,
    user_id: int | None,
    organisation_id: int | None = None,
    data: Mapping[str, Any],
) -> None:
    """Queue ``event`` for the endpoints of the work's owner, after the current transaction
    commits (at once outside one)."""
    if event not in _KINDS:
        raise ValueError(f"unknown webhook event {event!r}: register it first")
    payload = dict(data)
    json.dumps(payload)  # fail where the event is made, not later in the worker

    def queue() -> None:
        from .services import deliveries_create

        deliveries_create(
            event=event,
            event_id=event_id,
            user_id=user_id,
            organisation_id=organisation_id,
            data=payload,
        )

    transaction.on_commit(queue)
