"""Project pages: jobs (list, page, draft form, publish, close, matches and invitations),
proposals (form, page, the client's side-by-side triage), contracts (milestones, money,
deliveries, history; fund, deliver, changes and approve behind a confirm step that states
the amounts; end, disputes, reviews) and the two dashboards."""

from .contracts import (
    contract_detail_view,
    contract_end_view,
    delivery_file_view,
    dispute_view,
    milestone_action_view,
    milestone_add_view,
    review_view,
)
from .jobs import (
    client_dashboard_view,
    freelancer_dashboard_view,
    job_attachment_view,
    job_close_view,
    job_create_view,
    job_detail_view,
    job_edit_view,
    job_invite_view,
    job_list_view,
    job_publish_view,
)
from .proposals import (
    proposal_action_view,
    proposal_compare_view,
    proposal_create_view,
    proposal_detail_view,
    proposal_edit_view,
)

__all__ = [
    "client_dashboard_view",
    "contract_detail_view",
    "contract_end_view",
    "delivery_file_view",
    "dispute_view",
    "freelancer_dashboard_view",
    "job_attachment_view",
    "job_close_view",
    "job_create_view",
    "job_detail_view",
    "job_edit_view",
    "job_invite_view",
    "job_list_view",
    "job_publish_view",
    "milestone_action_view",
    "milestone_add_view",
    "proposal_action_view",
    "proposal_compare_view",
    "proposal_create_view",
    "proposal_detail_view",
    "proposal_edit_view",
    "review_view",
]
