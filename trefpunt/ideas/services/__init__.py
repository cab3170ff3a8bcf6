"""Every write to idea calls, ideas, votes and comments, by lifecycle stage:

* ``calls``: drafts, stages, invitations, publish (rewards into escrow), voting, close;
* ``ideas``: submit, edit, updates, merge, take-down;
* ``votes``: vote and unvote;
* ``discussion``: comments, reports, follows;
* ``stages``: stage decisions with reasons, and rewards.
"""

from .calls import (
    call_close,
    call_create_draft,
    call_deposit_shortfall,
    call_draft_check,
    call_funding_total,
    call_invite,
    call_publish,
    call_stage_save,
    call_take_down,
    call_update_draft,
    call_voting_start,
    calls_sweep,
    tags_parse,
)
from .discussion import (
    comment_create,
    comment_edit,
    comment_edit_until,
    comment_hide,
    follow_set,
    is_following,
    report_create,
    report_dismiss,
)
from .ideas import idea_edit, idea_hide, idea_merge, idea_submit, idea_update_add
from .stages import idea_stage_move, reward_split
from .votes import idea_unvote, idea_vote

__all__ = [
    "call_close",
    "call_create_draft",
    "call_deposit_shortfall",
    "call_draft_check",
    "call_funding_total",
    "call_invite",
    "call_publish",
    "call_stage_save",
    "call_take_down",
    "call_update_draft",
    "call_voting_start",
    "calls_sweep",
    "comment_create",
    "comment_edit",
    "comment_edit_until",
    "comment_hide",
    "follow_set",
    "idea_edit",
    "idea_hide",
    "idea_merge",
    "idea_stage_move",
    "idea_submit",
    "idea_unvote",
    "idea_update_add",
    "idea_vote",
    "is_following",
    "report_create",
    "report_dismiss",
    "reward_split",
    "tags_parse",
]
