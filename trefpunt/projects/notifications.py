"""What projects tell people (registered with the notifications module): proposals and
decisions on them, hiring, money moving on milestones, deliveries and reminders, endings,
disputes and reviews. One template, ``projects/email/notice.txt``, words each kind."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.utils.translation import gettext_lazy as _

from trefpunt.community.notifications import NotificationKind, notification_kinds_register


def _prepare(what: str, context: dict[str, Any]) -> dict[str, Any]:
    from .models import Contract, Job, Milestone, Proposal
    from .rules import AUTO_APPROVE_DAYS, DISPUTE_AGREE_DAYS

    values: dict[str, Any] = {
        **context,
        "what": what,
        "auto_approve_days": AUTO_APPROVE_DAYS,
        "dispute_agree_days": DISPUTE_AGREE_DAYS,
    }
    if context.get("job_id"):
        values["job"] = Job.objects.filter(pk=context["job_id"]).first()
    if context.get("proposal_id"):
        proposal = (
            Proposal.objects.select_related("job", "freelancer__profile")
            .filter(pk=context["proposal_id"])
            .first()
        )
        values["proposal"] = proposal
        values["job"] = proposal.job if proposal else None
    if context.get("milestone_id"):
        milestone = (
            Milestone.objects.select_related("contract").filter(pk=context["milestone_id"]).first()
        )
        values["milestone"] = milestone
        values["contract"] = milestone.contract if milestone else None
    if context.get("contract_id"):
        values["contract"] = Contract.objects.filter(pk=context["contract_id"]).first()
    return values


KINDS: list[tuple[str, Any, bool]] = [
    ("proposal", _("New proposals on your jobs"), False),
    ("declined", _("Your proposals declined"), False),
    ("job_closed", _("Jobs you proposed on closed or filled"), False),
    ("invited", _("Invitations to propose on a job"), False),
    ("hired", _("You were hired"), True),
    ("milestone_added", _("Milestones added to your contracts"), False),
    ("funded", _("Milestones funded into escrow"), True),
    ("delivered", _("Work delivered on your contracts"), True),
    ("changes", _("Changes requested on your work"), True),
    ("approved", _("Milestones approved and paid"), True),
    ("reminder", _("Deliveries waiting for your answer"), True),
    ("end_requested", _("Requests to end a contract"), True),
    ("ended", _("Contracts ended"), True),
    ("dispute", _("Disputes opened"), True),
    ("dispute_offer", _("Split proposals in disputes"), True),
    ("dispute_resolved", _("Disputes settled"), True),
    ("review", _("Reviews of your contracts"), False),
]


def register() -> None:
    notification_kinds_register(
        *(
            NotificationKind(
                f"projects.{what}",
                "projects/email/notice.txt",
                label,
                essential=essential,
                prepare=partial(_prepare, what),
            )
            for what, label, essential in KINDS
        )
    )
