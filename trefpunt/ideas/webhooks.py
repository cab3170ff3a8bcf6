"""The idea-call events a client's webhook endpoints can receive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from trefpunt.core.web import absolute_url
from trefpunt.webhooks.events import WebhookEventKind, webhook_emit, webhook_events_register

if TYPE_CHECKING:
    from .models import Idea, IdeaCall, StageChange

IDEA_STAGE_CHANGED = "idea.stage_changed"

webhook_events_register(
    WebhookEventKind(IDEA_STAGE_CHANGED, _("An idea in one of your calls moved stage")),
)


def idea_stage_changed_emit(call: IdeaCall, idea: Idea, change: StageChange) -> None:
    webhook_emit(
        event=IDEA_STAGE_CHANGED,
        event_id=f"idea.stagechange:{change.pk}",
        user_id=call.created_by_id,
        organisation_id=call.organisation_id,
        data={
            "call": {"id": call.pk, "title": call.title},
            "idea": {
                "id": idea.pk,
                "title": idea.title,
                "url": absolute_url(idea.get_absolute_url()),
            },
            "from_stage": {"id": change.from_stage_id, "name": change.from_stage.label},
            "to_stage": {"id": change.to_stage_id, "name": change.to_stage.label},
        },
    )
