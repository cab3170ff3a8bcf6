"""Every write of the microtask mode, by lifecycle stage:

- ``definition``: a draft batch and its items;
- ``funding``: publish (the escrow is funded), raise the reward, pay answers, refund;
- ``lifecycle``: pause, resume, close, and the fair-pay pause;
- ``scheduling``: hand a worker the next item (or a task page of items) under a lease, or
  let them skip it;
- ``answers``: store a worker's answer on their lease, or a page's answers at once;
- ``aggregation``: each item's combined answer, and the batch's full fit;
- ``stopping``: the adaptive stopping rule fed with the batch's stored estimates;
- ``item_states``: an item's state after a fit (reopen, needs review), closing a done batch;
- ``review``: approve, reject, appeals, bulk review, excluding a worker;
- ``sweeps``: the time-driven rules run by ``tasks.py``.

Lock order (the platform's, see ``ledger.services``): the batch's escrow account, then the
batch row, then item rows by ascending id, then lease and answer rows. Scheduling and
submission lock only the one item they work on, so workers do not wait for each other or
for the client.
"""

from .aggregation import (
    REFIT_FIRST,
    REFIT_QUIET,
    REFIT_SHARE,
    REFIT_STALE,
    batch_aggregate,
    item_answer_recorded_unlocked,
    refit_every,
    refit_threshold,
)
from .answers import FAIR_PAY_INLINE_UNTIL, lease_answer, lease_answer_page
from .definition import (
    batch_create,
    batch_update,
    items_clear,
    items_upload,
)
from .funding import (
    batch_deposit_shortfall,
    batch_publish,
    batch_reward_raise,
    batch_settle,
)
from .item_states import batch_finish_if_done, batches_finish_sweep
from .lifecycle import batch_close, batch_fair_pay_check, batch_pause, batch_resume
from .qualification import batch_test_set, qualification_start, qualification_submit
from .review import (
    answer_appeal,
    answer_approve,
    answer_reject,
    answers_review_bulk,
    appeal_decide,
    batch_worker_exclude,
)
from .scheduling import CLAIM_ATTEMPTS, lease_claim, lease_claim_page, lease_skip
from .sweeps import (
    answers_auto_approve,
    appeals_auto_overturn,
    batches_aggregate_sweep,
    batches_fair_pay_sweep,
    batches_settle,
    leases_expire,
)

__all__ = [
    "CLAIM_ATTEMPTS",
    "FAIR_PAY_INLINE_UNTIL",
    "REFIT_FIRST",
    "REFIT_QUIET",
    "REFIT_SHARE",
    "REFIT_STALE",
    "answer_appeal",
    "answer_approve",
    "answer_reject",
    "answers_auto_approve",
    "answers_review_bulk",
    "appeal_decide",
    "appeals_auto_overturn",
    "batch_aggregate",
    "batch_close",
    "batch_create",
    "batch_deposit_shortfall",
    "batch_fair_pay_check",
    "batch_finish_if_done",
    "batch_pause",
    "batch_publish",
    "batch_resume",
    "batch_reward_raise",
    "batch_settle",
    "batch_test_set",
    "batch_update",
    "batch_worker_exclude",
    "batches_aggregate_sweep",
    "batches_fair_pay_sweep",
    "batches_finish_sweep",
    "batches_settle",
    "item_answer_recorded_unlocked",
    "items_clear",
    "items_upload",
    "lease_answer",
    "lease_answer_page",
    "lease_claim",
    "lease_claim_page",
    "lease_skip",
    "leases_expire",
    "qualification_start",
    "qualification_submit",
    "refit_every",
    "refit_threshold",
]
