"""The state machines of the microtask mode (``core.states``): a batch's publication and
run, a lease, an answer's review and appeal.

Every move is "from A to B if still A", one conditional update; the batch's moves are
recorded as events. ``can`` answers the same question for the capabilities in
``selectors.BatchAccess``, so a page never offers a move the service would refuse.

An item's status is not moved here: it changes together with its answer counts and
combined answer, in memory under the item's row lock, and is saved with them in one
statement (``services.aggregation``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from trefpunt.core.states import StateMachine

from .models import Answer, Batch, Lease

B = Batch.Status

# Publishing is a move of its own: a draft opens once, when its escrow is funded.
BATCH_PUBLISH: StateMachine[Batch] = StateMachine(
    Batch,
    subject="batch",
    moves={B.OPEN: {B.DRAFT}},
    refusal=_("You cannot %(action)s: the batch is %(status)s."),
)

# A published batch's run: paused by its client or for fair pay, opened again, closed.
# A draft may be closed too (it is then never published).
BATCH_RUN: StateMachine[Batch] = StateMachine(
    Batch,
    subject="batch",
    moves={
        B.PAUSED: {B.OPEN},
        B.OPEN: {B.PAUSED},
        B.CLOSED: {B.DRAFT, B.OPEN, B.PAUSED},
    },
    refusal=_("You cannot %(action)s: the batch is %(status)s."),
)

LEASE_STATES: StateMachine[Lease] = StateMachine(
    Lease,
    subject="lease",
    moves={
        Lease.Status.SUBMITTED: {Lease.Status.ACTIVE},
        Lease.Status.SKIPPED: {Lease.Status.ACTIVE},
        Lease.Status.EXPIRED: {Lease.Status.ACTIVE},
    },
    refusal=_("You cannot %(action)s: the lease is %(status)s."),
)

A = Answer.Status

ANSWER_STATES: StateMachine[Answer] = StateMachine(
    Answer,
    subject="answer",
    moves={
        A.APPROVED: {A.PENDING},
        A.REJECTED: {A.PENDING},
        A.APPEALED: {A.REJECTED},
        A.UPHELD: {A.APPEALED},
        A.OVERTURNED: {A.APPEALED},
    },
    refusal=_("You cannot %(action)s: the answer is %(status)s."),
)


def batch_is_editable(batch: Batch) -> bool:
    """A batch's definition and items change only while it is a draft: workers rely on a
    published one, and its escrow was funded for its items."""
    return batch.status == B.DRAFT


def batch_is_running(batch: Batch) -> bool:
    """Published and not closed: items may still be handed out (open) or will be again
    (paused)."""
    return batch.status in (B.OPEN, B.PAUSED)
