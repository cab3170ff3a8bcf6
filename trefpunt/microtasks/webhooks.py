"""The microtask events a client's webhook endpoints can receive."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from trefpunt.core.web import absolute_url
from trefpunt.webhooks.events import WebhookEventKind, webhook_emit, webhook_events_register

if TYPE_CHECKING:
    from .models import Batch, Item

ITEM_COMPLETED = "batch.item_completed"
BATCH_FINISHED = "batch.finished"

webhook_events_register(
    WebhookEventKind(ITEM_COMPLETED, _("An item of one of your batches is complete")),
    WebhookEventKind(BATCH_FINISHED, _("Every item of one of your batches is done")),
)


def _batch(batch: Batch) -> dict[str, object]:
    url = absolute_url(reverse("microtasks:batch_detail", kwargs={"pk": batch.pk}))
    return {"id": batch.pk, "title": batch.title, "url": url}


def item_completed_emit(
    batch: Batch, item: Item, listeners: dict[int, list[str]] | None = None
) -> None:
    """After the answer that completed ``item`` commits: tell the owner's endpoints (that
    the batch finished is ``services.lifecycle.batch_finished_check``'s, with the owner's
    notice). This is the workers' hot path, so it looks up the owner's endpoints once and
    does nothing more when none listens. ``listeners``: the owner's endpoints when the
    caller read them already (``webhooks.services.webhook_listeners_sql`` in its own
    statement)."""
    item_data = {
        "id": item.pk,
        "answer": item.aggregated_answer,
        "confidence": item.confidence,
    }
    if listeners == {}:
        return  # nobody listens: nothing to do after the commit
    transaction.on_commit(partial(_item_completed_after_commit, batch, item_data, listeners))


def _item_completed_after_commit(
    batch: Batch, item_data: dict[str, Any], listeners: dict[int, list[str]] | None
) -> None:
    from trefpunt.webhooks.services import deliveries_create, webhook_listeners

    owner = {"user_id": batch.owner_id, "organisation_id": batch.organisation_id}
    if listeners is None:
        listeners = webhook_listeners(**owner)
    if any(ITEM_COMPLETED in events for events in listeners.values()):
        deliveries_create(
            event=ITEM_COMPLETED,
            event_id=f"batch.item:{item_data['id']}:completed",
            data={"batch": _batch(batch), "item": item_data},
            listeners=listeners,
            **owner,
        )


def items_completed_emit(
    batch: Batch, ids: Sequence[int], result: Callable[[int], tuple[Any, float | None]]
) -> None:
    """After a fit completed the items ``ids`` (the answers that complete an item call
    ``item_completed_emit``): one event per item for the owner's endpoints listening,
    stored in bulk; ``result`` gives an item's combined answer and confidence. Asks for the
    endpoints once and reads no result when none listens."""
    from trefpunt.webhooks.services import deliveries_create_many, webhook_listeners

    if not ids:
        return
    owner = {"user_id": batch.owner_id, "organisation_id": batch.organisation_id}
    listeners = webhook_listeners(**owner)
    if not any(ITEM_COMPLETED in events for events in listeners.values()):
        return
    shown = _batch(batch)
    events = []
    for pk in ids:
        answer, confidence = result(pk)
        item = {"id": pk, "answer": answer, "confidence": confidence}
        events.append((f"batch.item:{pk}:completed", {"batch": shown, "item": item}))
    deliveries_create_many(event=ITEM_COMPLETED, events=events, listeners=listeners, **owner)


def batch_finished_emit(batch: Batch) -> None:
    webhook_emit(
        event=BATCH_FINISHED,
        event_id=f"batch:{batch.pk}:finished",
        user_id=batch.owner_id,
        organisation_id=batch.organisation_id,
        data={"batch": _batch(batch)},
    )
