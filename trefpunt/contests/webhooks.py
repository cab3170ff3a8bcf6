"""The contest events a client's webhook endpoints can receive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from trefpunt.core.web import absolute_url
from trefpunt.webhooks.events import WebhookEventKind, webhook_emit, webhook_events_register

if TYPE_CHECKING:
    from .models import Contest, Entry

ENTRY_SUBMITTED = "contest.entry_submitted"
CONTEST_AWARDED = "contest.awarded"

webhook_events_register(
    WebhookEventKind(ENTRY_SUBMITTED, _("A new entry in one of your contests")),
    WebhookEventKind(CONTEST_AWARDED, _("One of your contests was awarded")),
)


def _contest(contest: Contest) -> dict[str, object]:
    url = absolute_url(contest.get_absolute_url())
    return {"id": contest.pk, "title": contest.title, "url": url}


def entry_submitted_emit(contest: Contest, entry: Entry) -> None:
    webhook_emit(
        event=ENTRY_SUBMITTED,
        event_id=f"contest.entry:{entry.pk}:submitted",
        user_id=contest.created_by_id,
        organisation_id=contest.organisation_id,
        data={
            "contest": _contest(contest),
            "entry": {"id": entry.pk, "number": entry.number, "title": entry.title},
        },
    )


def contest_awarded_emit(contest: Contest, winners: dict[int, int]) -> None:
    """``winners`` maps prize position → winning entry id."""
    webhook_emit(
        event=CONTEST_AWARDED,
        event_id=f"contest:{contest.pk}:awarded",
        user_id=contest.created_by_id,
        organisation_id=contest.organisation_id,
        data={
            "contest": _contest(contest),
            "winners": [{"prize": pos, "entry": entry} for pos, entry in sorted(winners.items())],
        },
    )
