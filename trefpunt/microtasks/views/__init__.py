"""Microtask pages. Thin: parse the form, call one service or selector, render.

Every action is a plain POST that works without JavaScript and redirects back:

- ``work``: the worker's pages (``work_page``: a page of several items at once);
- ``manage``: the client's batch, its definition, funding and run;
- ``review``: the client's review, results, workers and export, and staff appeals.

What a viewer may do is read from ``selectors.BatchAccess`` / ``AnswerAccess``, never
worked out here.
"""

from .builder import builder_view
from .manage import (
    _batch_form_view,
    batch_close_view,
    batch_create_view,
    batch_edit_view,
    batch_pause_view,
    batch_resume_view,
    batch_reward_view,
    items_clear_view,
    items_upload_view,
    manage_list_view,
    manage_view,
    publish_view,
)
from .qualification import qualification_view
from .review import (
    answer_review_view,
    appeal_decide_view,
    export_view,
    items_view,
    results_view,
    review_bulk_view,
    review_view,
    staff_appeals_view,
    worker_exclude_view,
    workers_view,
)
from .work import (
    answer_appeal_view,
    answer_history_view,
    batch_detail_view,
    batch_list_view,
    lease_answer_view,
    lease_skip_view,
    page_answer_view,
    work_view,
)

__all__ = [
    "_batch_form_view",
    "answer_appeal_view",
    "answer_history_view",
    "answer_review_view",
    "appeal_decide_view",
    "batch_close_view",
    "batch_create_view",
    "batch_detail_view",
    "batch_edit_view",
    "batch_list_view",
    "batch_pause_view",
    "batch_resume_view",
    "batch_reward_view",
    "builder_view",
    "export_view",
    "items_clear_view",
    "items_upload_view",
    "items_view",
    "lease_answer_view",
    "lease_skip_view",
    "manage_list_view",
    "manage_view",
    "page_answer_view",
    "publish_view",
    "qualification_view",
    "results_view",
    "review_bulk_view",
    "review_view",
    "staff_appeals_view",
    "work_view",
    "worker_exclude_view",
    "workers_view",
]
