"""Who may see and do what in projects: computed once, here, and used by the views, the API
and the templates alike (``ProjectAccess`` for a job post, ``ProposalAccess``,
``ContractAccess``).

Who sees what:

* a **draft** job: its managers (the poster, or the owners and admins of the organisation it
  is posted for) and staff;
* a **public** job: everyone, also without an account; an **invite-only** job: the invited
  freelancers, the managers and staff;
* a **proposal**: its freelancer, the job's managers and staff — never another freelancer;
* a **contract**: its freelancer, the client's managers and staff.

Everyone else gets not-found, whatever the way in (list, page, API, file URL, a guessed id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.models import Membership, Role
from trefpunt.core.exceptions import NotFound
from trefpunt.moderation.selectors import hidden_ids

from ..models import Contract, Job, JobInvitation, Milestone, Proposal
from ..rules import REVIEW_REVEAL_DAYS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from trefpunt.accounts.models import User

    AnyUser = User | AnonymousUser | None

PUBLISHED = [Job.Status.OPEN, Job.Status.HIRED, Job.Status.CLOSED]
M = Milestone.Status


def authed(user: AnyUser) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user  # type: ignore[return-value]


def managed_organisation_ids(user: AnyUser) -> set[int]:
    person = authed(user)
    if person is None:
        return set()
    return set(
        Membership.objects.filter(user=person, role__in=[Role.OWNER, Role.ADMIN]).values_list(
            "organisation_id", flat=True
        )
    )


def _manages(poster_id: int, organisation_id: int | None, person: User | None) -> bool:
    if person is None:
        return False
    if organisation_id is None:
        return poster_id == person.pk
    return organisation_id in managed_organisation_ids(person)


def job_can_manage(job: Job, user: AnyUser) -> bool:
    return _manages(job.created_by_id, job.organisation_id, authed(user))


def managed_q(
    user: AnyUser, *, poster: str = "created_by", organisation: str = "organisation"
) -> Q:
    """Rows the user acts for as the client (their own posts, their organisations')."""
    person = authed(user)
    if person is None:
        return Q(pk__in=[])
    return Q(**{poster: person, f"{organisation}__isnull": True}) | Q(
        **{f"{organisation}_id__in": managed_organisation_ids(person)}
    )


def jobs_visible_q(user: AnyUser) -> Q:
    """The job posts ``user`` may see, as a filter (two small queries at most)."""
    shown = ~Q(pk__in=hidden_ids("projects.job"))  # staff hid it: its poster still sees it
    public = Q(shown, status__in=PUBLISHED, visibility=Job.Visibility.PUBLIC)
    person = authed(user)
    if person is None:
        return public
    if person.is_staff:
        return Q(status__in=PUBLISHED) | managed_q(person)
    invited = JobInvitation.objects.filter(user=person).values("job_id")
    return public | Q(shown, status__in=PUBLISHED, pk__in=invited) | managed_q(person)


@dataclass(frozen=True)
class ProjectAccess:
    """What a viewer may see and do on one job post."""

    job: Job
    user: User | None
    can_view: bool
    can_manage: bool
    is_staff: bool
    invitation: JobInvitation | None
    my_proposal: Proposal | None

    @property
    def is_open(self) -> bool:
        return self.job.status == Job.Status.OPEN

    @property
    def can_edit(self) -> bool:
        return self.can_manage and self.job.status == Job.Status.DRAFT

    @property
    def can_publish(self) -> bool:
        return self.can_edit

    @property
    def can_close(self) -> bool:
        return self.can_manage and self.job.status in {Job.Status.DRAFT, Job.Status.OPEN}

    @property
    def can_invite(self) -> bool:
        return self.can_manage and self.is_open

    @property
    def can_see_proposals(self) -> bool:
        return self.can_manage or self.is_staff

    @property
    def can_propose(self) -> bool:
        return (
            self.user is not None
            and not self.can_manage
            and self.is_open
            and self.my_proposal is None
            and not self.job.is_full
        )


def job_access(job: Job, user: AnyUser) -> ProjectAccess:
    person = authed(user)
    can_manage = job_can_manage(job, person)
    is_staff = bool(person and person.is_staff)
    invitation = (
        JobInvitation.objects.filter(job=job, user=person).first() if person is not None else None
    )
    published = job.status != Job.Status.DRAFT
    if can_manage or is_staff:
        can_view = True
    elif not published or hidden_ids("projects.job").filter(object_id=job.pk).exists():
        can_view = False
    else:
        can_view = job.visibility == Job.Visibility.PUBLIC or invitation is not None
    my_proposal = (
        Proposal.objects.filter(job=job, freelancer=person).first()
        if person is not None and can_view and not can_manage
        else None
    )
    return ProjectAccess(job, person, can_view, can_manage, is_staff, invitation, my_proposal)


def _job_base() -> QuerySet[Job]:
    return Job.objects.select_related("organisation", "created_by__profile").prefetch_related(
        "skills"
    )


def job_get_for_user(*, job_id: int, user: AnyUser) -> ProjectAccess:
    job = _job_base().filter(pk=job_id).first()
    access = job_access(job, user) if job is not None else None
    if access is None or not access.can_view:
        raise NotFound(_("Job not found."))
    return access


def job_get_for_manager(*, job_id: int, user: AnyUser) -> Job:
    job = _job_base().filter(pk=job_id).first()
    if job is None or not job_can_manage(job, user):
        raise NotFound(_("Job not found."))
    return job


@dataclass(frozen=True)
class ProposalAccess:
    proposal: Proposal
    user: User | None
    is_author: bool
    can_manage: bool  # acts for the client
    is_staff: bool

    @property
    def job_open(self) -> bool:
        return self.proposal.job.status == Job.Status.OPEN

    @property
    def can_edit(self) -> bool:
        return (
            self.is_author and self.job_open and self.proposal.status == Proposal.Status.SUBMITTED
        )

    @property
    def can_withdraw(self) -> bool:
        return self.is_author and self.proposal.status in {
            Proposal.Status.SUBMITTED,
            Proposal.Status.SHORTLISTED,
        }

    @property
    def can_shortlist(self) -> bool:
        return (
            self.can_manage and self.job_open and self.proposal.status == Proposal.Status.SUBMITTED
        )

    @property
    def can_decline(self) -> bool:
        return (
            self.can_manage
            and self.job_open
            and self.proposal.status in {Proposal.Status.SUBMITTED, Proposal.Status.SHORTLISTED}
        )

    @property
    def can_accept(self) -> bool:
        return self.can_decline

    @property
    def can_message(self) -> bool:
        """The proposal's thread: the freelancer and the client, nobody else."""
        return self.is_author or self.can_manage


def proposal_access(proposal: Proposal, user: AnyUser) -> ProposalAccess:
    person = authed(user)
    is_author = person is not None and proposal.freelancer_id == person.pk
    can_manage = job_can_manage(proposal.job, person)
    return ProposalAccess(proposal, person, is_author, can_manage, bool(person and person.is_staff))


def proposal_get_for_user(*, proposal_id: int, user: AnyUser) -> ProposalAccess:
    """A proposal for its freelancer, the job's managers and staff; not-found for anyone
    else (another freelancer guessing ids learns nothing)."""
    proposal = (
        Proposal.objects.select_related(
            "job__organisation", "job__created_by__profile", "freelancer__profile"
        )
        .prefetch_related("portfolio_items")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFound(_("Proposal not found."))
    access = proposal_access(proposal, user)
    if not (access.is_author or access.can_manage or access.is_staff):
        raise NotFound(_("Proposal not found."))
    # Hidden by staff: gone for the client, still there for its author.
    hidden = hidden_ids("projects.proposal").filter(object_id=proposal.pk)
    if not (access.is_author or access.is_staff) and hidden.exists():
        raise NotFound(_("Proposal not found."))
    return access


@dataclass(frozen=True)
class ContractAccess:
    """What a viewer may see and do on one contract and its milestones."""

    contract: Contract
    user: User | None
    is_client: bool
    is_freelancer: bool
    is_staff: bool
    now: datetime

    @property
    def can_view(self) -> bool:
        return self.is_client or self.is_freelancer or self.is_staff

    @property
    def is_party(self) -> bool:
        return self.is_client or self.is_freelancer

    @property
    def active(self) -> bool:
        return self.contract.status == Contract.Status.ACTIVE

    @property
    def can_message(self) -> bool:
        return self.is_party

    def can_fund(self, milestone: Milestone) -> bool:
        return self.is_client and self.active and milestone.status == M.PENDING

    def can_deliver(self, milestone: Milestone) -> bool:
        return self.is_freelancer and self.active and milestone.status in {M.FUNDED, M.CHANGES}

    def can_answer(self, milestone: Milestone) -> bool:
        """Approve or request changes."""
        return self.is_client and self.active and milestone.status == M.SUBMITTED

    @property
    def can_add_milestone(self) -> bool:
        return self.is_client and self.active

    @property
    def can_end(self) -> bool:
        return self.is_party and self.active

    @property
    def can_dispute(self) -> bool:
        return self.is_party and self.active

    @property
    def ended(self) -> bool:
        return self.contract.status == Contract.Status.ENDED

    @property
    def review_window_ends(self) -> datetime | None:
        if self.contract.ended_at is None:
            return None
        return self.contract.ended_at + timedelta(days=REVIEW_REVEAL_DAYS)

    @property
    def can_review(self) -> bool:
        return self.is_party and self.ended


def contract_access(contract: Contract, user: AnyUser) -> ContractAccess:
    person = authed(user)
    is_client = _manages(contract.client_id, contract.organisation_id, person)
    is_freelancer = person is not None and contract.freelancer_id == person.pk
    return ContractAccess(
        contract,
        person,
        is_client,
        is_freelancer,
        bool(person and person.is_staff),
        timezone.now(),
    )


def contract_get_for_user(*, contract_id: int, user: AnyUser) -> ContractAccess:
    contract = (
        Contract.objects.select_related(
            "job", "organisation", "client__profile", "freelancer__profile"
        )
        .filter(pk=contract_id)
        .first()
    )
    access = contract_access(contract, user) if contract is not None else None
    if access is None or not access.can_view:
        raise NotFound(_("Contract not found."))
    return access


def contracts_visible_q(user: AnyUser) -> Q:
    person = authed(user)
    if person is None:
        return Q(pk__in=[])
    return Q(freelancer=person) | managed_q(person, poster="client")
