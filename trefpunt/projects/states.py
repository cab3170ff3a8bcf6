"""The state machines of projects (``core.states``): jobs, proposals, contracts, milestones
and disputes. ``moves`` reads "to ← from"."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from trefpunt.core.states import StateMachine

from .models import Contract, Dispute, Job, Milestone, Proposal

J = Job.Status
P = Proposal.Status
C = Contract.Status
M = Milestone.Status
D = Dispute.Status

JOB_STATES: StateMachine[Job] = StateMachine(
    Job,
    subject="job",
    moves={
        J.OPEN: {J.DRAFT},
        J.HIRED: {J.OPEN},
        J.CLOSED: {J.DRAFT, J.OPEN, J.HIRED},
    },
    refusal=gettext_lazy("You cannot %(action)s now: the job's status is “%(status)s”."),
)

PROPOSAL_STATES: StateMachine[Proposal] = StateMachine(
    Proposal,
    subject="proposal",
    moves={
        P.SHORTLISTED: {P.SUBMITTED},
        P.DECLINED: {P.SUBMITTED, P.SHORTLISTED},
        P.WITHDRAWN: {P.SUBMITTED, P.SHORTLISTED},
        P.ACCEPTED: {P.SUBMITTED, P.SHORTLISTED},
        # "Edit" is a move from submitted to itself: only until the client acts.
        P.SUBMITTED: {P.SUBMITTED},
    },
    refusal=gettext_lazy("You cannot %(action)s now: the proposal's status is “%(status)s”."),
)

CONTRACT_STATES: StateMachine[Contract] = StateMachine(
    Contract,
    subject="contract",
    moves={
        C.DISPUTED: {C.ACTIVE},
        C.ENDED: {C.ACTIVE, C.DISPUTED},
    },
    refusal=gettext_lazy("You cannot %(action)s now: the contract's status is “%(status)s”."),
)

MILESTONE_STATES: StateMachine[Milestone] = StateMachine(
    Milestone,
    subject="milestone",
    moves={
        M.FUNDED: {M.PENDING},
        M.SUBMITTED: {M.FUNDED, M.CHANGES},
        M.CHANGES: {M.SUBMITTED},
        M.RELEASED: {M.SUBMITTED},
        M.REFUNDED: {M.FUNDED, M.CHANGES},
        M.DISPUTED: {M.FUNDED, M.SUBMITTED, M.CHANGES},
        M.RESOLVED: {M.DISPUTED},
        M.CANCELLED: {M.PENDING},
    },
    refusal=gettext_lazy("You cannot %(action)s now: the milestone's status is “%(status)s”."),
)

DISPUTE_STATES: StateMachine[Dispute] = StateMachine(
    Dispute,
    subject="dispute",
    moves={
        D.STAFF: {D.NEGOTIATING},
        D.RESOLVED: {D.NEGOTIATING, D.STAFF},
    },
    refusal=gettext_lazy("You cannot %(action)s: the dispute is at the step “%(status)s”."),
)
