"""The project events a client's webhook endpoints can receive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from trefpunt.core.web import absolute_url
from trefpunt.webhooks.events import WebhookEventKind, webhook_emit, webhook_events_register

if TYPE_CHECKING:
    from .models import Job, Milestone, Proposal

PROPOSAL_RECEIVED = "project.proposal_received"
MILESTONE_DELIVERED = "project.milestone_delivered"

webhook_events_register(
    WebhookEventKind(PROPOSAL_RECEIVED, _("A proposal on one of your jobs")),
    WebhookEventKind(MILESTONE_DELIVERED, _("Work delivered on one of your contracts")),
)


def proposal_received_emit(job: Job, proposal: Proposal) -> None:
    webhook_emit(
        event=PROPOSAL_RECEIVED,
        event_id=f"project.proposal:{proposal.pk}:received",
        user_id=job.created_by_id,
        organisation_id=job.organisation_id,
        data={
            "job": {"id": job.pk, "title": job.title, "url": absolute_url(job.get_absolute_url())},
            "proposal": {
                "id": proposal.pk,
                "price": proposal.price,
                "duration_days": proposal.duration_days,
                "url": absolute_url(proposal.get_absolute_url()),
            },
        },
    )


def milestone_delivered_emit(milestone: Milestone, deliveries: int) -> None:
    """``deliveries``: how many times this milestone has been delivered (1 the first time),
    so each delivery is its own event."""
    contract = milestone.contract
    webhook_emit(
        event=MILESTONE_DELIVERED,
        event_id=f"project.milestone:{milestone.pk}:delivered:{deliveries}",
        user_id=contract.client_id,
        organisation_id=contract.organisation_id,
        data={
            "contract": {"id": contract.pk, "url": absolute_url(contract.get_absolute_url())},
            "milestone": {"id": milestone.pk, "title": milestone.title, "amount": milestone.amount},
        },
    )
