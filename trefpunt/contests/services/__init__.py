"""Every write to contests and entries, one module per lifecycle stage:

* ``brief``: drafts, reference files, invitations;
* ``publish``: publish (escrow funded), cancel (refund), close entries;
* ``entries``: submit, revise, withdraw (slow file work outside the locks);
* ``judging``: rate, decline, finalists, reports, staff reviews;
* ``payments``: award and guarantee;
* ``handover``: final files, rights transfer, portfolio;
* ``sweep``: the time-driven transitions.

State moves go through the state machines in ``contests.rules`` and every refusal names
its ``ErrorCode``; money moves through ``ledger.funded`` (``Contest.funded_work``).

Lock order (the platform's one order, see ``ledger/services.py``): the contest's
escrow account (``ledger.funded.work_escrow_lock``) first, then the contest row
(``select_for_update``), then its entries by ascending id, then the wallets
and the revenue account the payments touch, in ascending id, before posting.
Services that do not move money skip the escrow and start at the contest row. Slow
work (processing and storing files, the originality scan) runs before any lock.
Every state change is a conditional update whose row count is checked
(``StateMachine.move``), so of two concurrent moves exactly one wins and the other answers
``Conflict``.

Money (all integer cents, fees fixed on the contest when it is published):

* **Publish** moves prize pool + stipend budget (stipend × finalists at most) +
  client fee (``FEES_BPS["contest"]["client"]`` of those two, rounded half up)
  from the paying wallet (the poster's, or the organisation's) into the
  contest's escrow, in one journal entry ``contest:{id}:fund``.
* **Award / guarantee** release one journal entry per payment: the gross
  amount minus the crowd fee to the crowd member's wallet, the crowd fee and a
  share of the client fee to platform revenue. The client fee is shared out in
  proportion to the money paid by *cumulative flooring*: after the payments
  ``g1..gk`` the fee released so far is ``floor(fee × (g1+…+gk) / base)`` with
  ``base`` = prize pool + stipend budget; what is left of the fee goes back
  with the unused stipend budget in the refund ``contest:{id}:refund``. So the
  escrow always ends at exactly zero and no cent is created or lost.
* A prize split among several entries gives each ``floor(prize / n)``; the
  ``prize mod n`` cents that do not divide go one each to the earliest
  submitted entries (lowest entry number) — the stated party for rounding.
* **Cancel** (from draft, or open without entries) refunds the whole escrow.

The guarantee (``contest_guarantee``) and why a client cannot game it: a prize the client
has not awarded when judging ends is split equally among the finalists, or, without
finalists, among every entry that *shares in the guarantee*: every entry that was not
withdrawn, **declined ones included**. A decline tells the entrant the client will not
choose the entry; it does not take it out of the guarantee — otherwise a client could
decline everything and take the prize back. Only a decline for a rule break (reason code
``copied`` or ``rules``) that **staff upheld** (``entry_decline_review``) before the split
takes an entry out; a rule-break decline still waiting for review counts as eligible. So
the money goes back to the client only when nobody entered, every entrant withdrew, or
staff found every remaining entry copied or against the rules.
"""

from .brief import (
    DRAFT_FIELDS,
    contest_attachment_add,
    contest_attachment_remove,
    contest_create_draft,
    contest_draft_check,
    contest_invitation_claim,
    contest_invite,
    contest_nda_accept,
    contest_update_draft,
    prize_amount_problem,
)
from .common import KEEP
from .entries import entry_revise, entry_submit, entry_withdraw
from .handover import (
    RIGHTS_AGREEMENT_TEXT,
    RIGHTS_AGREEMENT_VERSION,
    entry_portfolio_add,
    handover_auto_confirm,
    handover_confirm,
    handover_deliver,
)
from .judging import (
    contest_finalist_round_open,
    entry_decline,
    entry_decline_review,
    entry_finalist_set,
    entry_rate,
    entry_report,
    flag_dismiss,
)
from .payments import (
    AwardPlan,
    PlannedPayment,
    contest_award,
    contest_award_plan,
    contest_guarantee,
    split_equally,
)
from .publish import (
    contest_cancel,
    contest_close_entries,
    contest_deposit_shortfall,
    contest_publish,
    contest_take_down,
)
from .sweep import SweepResult, contests_sweep

__all__ = [
    "DRAFT_FIELDS",
    "KEEP",
    "RIGHTS_AGREEMENT_TEXT",
    "RIGHTS_AGREEMENT_VERSION",
    "AwardPlan",
    "PlannedPayment",
    "SweepResult",
    "contest_attachment_add",
    "contest_attachment_remove",
    "contest_award",
    "contest_award_plan",
    "contest_cancel",
    "contest_close_entries",
    "contest_create_draft",
    "contest_deposit_shortfall",
    "contest_draft_check",
    "contest_finalist_round_open",
    "contest_guarantee",
    "contest_invitation_claim",
    "contest_invite",
    "contest_nda_accept",
    "contest_publish",
    "contest_take_down",
    "contest_update_draft",
    "contests_sweep",
    "entry_decline",
    "entry_decline_review",
    "entry_finalist_set",
    "entry_portfolio_add",
    "entry_rate",
    "entry_report",
    "entry_revise",
    "entry_submit",
    "entry_withdraw",
    "flag_dismiss",
    "handover_auto_confirm",
    "handover_confirm",
    "handover_deliver",
    "prize_amount_problem",
    "split_equally",
]
