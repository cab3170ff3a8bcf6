"""Every write to projects, by lifecycle stage:

* ``jobs``: drafts, publish, close, invitations by match;
* ``proposals``: send, edit, withdraw, shortlist, decline, accept (hire → contract);
* ``contracts``: milestones funded into escrow, delivered, changes, approval, the clock
  (reminders, auto-approval), ending;
* ``disputes``: open, propose and accept a split, staff decision;
* ``reviews``: double-blind reviews.
"""

from .contracts import (
    contract_end,
    milestone_add,
    milestone_approve,
    milestone_deliver,
    milestone_deposit_shortfall,
    milestone_fund,
    milestone_funding_total,
    milestone_request_changes,
    milestones_sweep,
)
from .disputes import (
    dispute_accept,
    dispute_decide,
    dispute_escalate,
    dispute_offer,
    dispute_open,
    disputes_sweep,
)
from .jobs import (
    job_close,
    job_create_draft,
    job_draft_check,
    job_invite,
    job_publish,
    job_update_draft,
)
from .proposals import (
    proposal_accept,
    proposal_check,
    proposal_create,
    proposal_decline,
    proposal_edit,
    proposal_shortlist,
    proposal_withdraw,
)
from .reviews import review_create

__all__ = [
    "contract_end",
    "dispute_accept",
    "dispute_decide",
    "dispute_escalate",
    "dispute_offer",
    "dispute_open",
    "disputes_sweep",
    "job_close",
    "job_create_draft",
    "job_draft_check",
    "job_invite",
    "job_publish",
    "job_update_draft",
    "milestone_add",
    "milestone_approve",
    "milestone_deliver",
    "milestone_deposit_shortfall",
    "milestone_fund",
    "milestone_funding_total",
    "milestone_request_changes",
    "milestones_sweep",
    "proposal_accept",
    "proposal_check",
    "proposal_create",
    "proposal_decline",
    "proposal_edit",
    "proposal_shortlist",
    "proposal_withdraw",
    "review_create",
]
