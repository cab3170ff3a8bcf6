"""Contest pages. Thin: parse the form, call one service or selector, render. Split by
page family: ``contests`` (list, contest, brief, publish, dashboards), ``judging`` (the
client's grid and the award) and ``entries`` (entering, one entry, handover, files, staff).
"""

from .contests import (
    attachment_add_view,
    attachment_download_view,
    attachment_remove_view,
    client_dashboard_view,
    contest_cancel_view,
    contest_close_view,
    contest_create_view,
    contest_detail_view,
    contest_edit_view,
    contest_invite_view,
    contest_list_view,
    contest_publish_view,
    entrant_dashboard_view,
)
from .entries import (
    entry_create_view,
    entry_detail_view,
    entry_file_view,
    entry_portfolio_view,
    entry_report_view,
    entry_revise_view,
    entry_withdraw_view,
    handover_confirm_view,
    handover_file_view,
    handover_view,
    staff_flags_view,
)
from .judging import (
    contest_award_view,
    entry_decline_view,
    entry_finalist_view,
    entry_rate_view,
    finalist_round_view,
    judge_view,
)

__all__ = [
    "attachment_add_view",
    "attachment_download_view",
    "attachment_remove_view",
    "client_dashboard_view",
    "contest_award_view",
    "contest_cancel_view",
    "contest_close_view",
    "contest_create_view",
    "contest_detail_view",
    "contest_edit_view",
    "contest_invite_view",
    "contest_list_view",
    "contest_publish_view",
    "entrant_dashboard_view",
    "entry_create_view",
    "entry_decline_view",
    "entry_detail_view",
    "entry_file_view",
    "entry_finalist_view",
    "entry_portfolio_view",
    "entry_rate_view",
    "entry_report_view",
    "entry_revise_view",
    "entry_withdraw_view",
    "finalist_round_view",
    "handover_confirm_view",
    "handover_file_view",
    "handover_view",
    "judge_view",
    "staff_flags_view",
]
