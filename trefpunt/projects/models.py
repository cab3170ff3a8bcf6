"""Projects: one client hires one freelancer through proposals and pays per milestone from
escrow.

Job: draft → open (proposals, invitations) → hired (one proposal accepted, a contract made)
→ closed; a job never costs the freelancer anything to answer. Proposal: submitted →
shortlisted → accepted | declined (reason) | withdrawn | not_selected. Contract: active →
disputed → ended. Milestone: pending → funded (escrow) → submitted → released (paid), or
changes_requested → submitted again; funded milestones end refunded, or disputed → resolved
(split). Each move is one service in ``services/`` through ``core.states`` (``states.py``).

Every field limit is defined here once; forms, API schemas and services read them from the
model (``limit(Model, "field")``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

DEFAULT_PROPOSAL_CAP = 30


def limit(model: type[models.Model], name: str) -> int:
    """The ``max_length`` of a model field: the one place a text limit is defined."""
    return int(model._meta.get_field(name).max_length or 0)  # type: ignore[union-attr]


def private_storage() -> Storage:
    """Deliveries and attachments are streamed by permission-checked views only."""
    return storages["private"]


class Job(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for proposals")
        HIRED = "hired", _("Hired")
        CLOSED = "closed", _("Closed")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public: everyone can propose")
        INVITED = "invited", _("Invited freelancers only")

    class Duration(models.TextChoices):
        DAYS = "days", _("Less than a week")
        WEEKS = "weeks", _("One to four weeks")
        MONTHS = "months", _("One to three months")
        LONGER = "longer", _("Longer than three months")

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=20000)
    skills = models.ManyToManyField("accounts.Skill", blank=True, related_name="jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
    )
    currency = models.CharField(max_length=3, default="EUR")
    # A fixed budget has min == max; a range has min < max.
    budget_min = models.BigIntegerField(_("budget from"))
    budget_max = models.BigIntegerField(_("budget up to"))
    duration = models.CharField(
        _("expected duration"), max_length=10, choices=Duration.choices, default=Duration.WEEKS
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    proposal_cap = models.PositiveSmallIntegerField(
        _("proposals at most"), default=DEFAULT_PROPOSAL_CAP
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Proposals that count against the cap (all but withdrawn ones), kept by the services.
    proposal_count = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    hired_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_min__gt=0, budget_max__gte=models.F("budget_min")),
                name="job_budget_valid",
            ),
            models.CheckConstraint(
                condition=Q(proposal_cap__gte=1, proposal_cap__lte=200), name="job_cap_range"
            ),
        ]
        indexes = [models.Index(fields=["status", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:job", kwargs={"pk": self.pk})

    @property
    def is_fixed(self) -> bool:
        return self.budget_min == self.budget_max

    @property
    def is_full(self) -> bool:
        return self.proposal_count >= self.proposal_cap


def attachment_path(instance: models.Model, filename: str) -> str:
    return f"projects/files/{filename}"


class JobAttachment(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="attachments")
    content_type = models.CharField(max_length=60)
    original_name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    file = models.FileField(storage=private_storage, upload_to=attachment_path, max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class JobInvitation(models.Model):
    """The client invited a freelancer; ``reasons`` say why they matched (shown to them)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="job_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # {"skills": ["Logo design"], "completed": 3, "rating": 4.5, "wins": 1, "portfolio": 4}
    reasons = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "user"], name="jobinvitation_unique"),
        ]


class Proposal(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        SHORTLISTED = "shortlisted", _("Shortlisted")
        ACCEPTED = "accepted", _("Hired")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        NOT_SELECTED = "not_selected", _("Someone else was hired")

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="proposals")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    price = models.BigIntegerField(_("price"))
    duration_days = models.PositiveSmallIntegerField(_("days to deliver"))
    cover_letter = models.TextField(_("cover letter"), max_length=5000)
    # [{"title": "Sketches", "amount": 30000}, …]; empty: one milestone for the whole price.
    milestone_plan = models.JSONField(default=list, blank=True)
    portfolio_items = models.ManyToManyField(
        "accounts.PortfolioItem", blank=True, related_name="proposals"
    )
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.SUBMITTED)
    decline_reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "freelancer"], name="proposal_one_per_person"),
            models.CheckConstraint(condition=Q(price__gt=0), name="proposal_price_positive"),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="proposal_declined_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["freelancer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.job} — {self.freelancer}"

    def get_absolute_url(self) -> str:
        return reverse("projects:proposal", kwargs={"pk": self.pk})

    @property
    def status_label(self) -> str:
        """The status as its freelancer reads it. "Not selected" covers two endings: somebody
        else was hired, or the client closed the job without hiring anyone (``hired_at``
        stays empty) — saying "someone else was hired" then would be untrue."""
        if self.status == self.Status.NOT_SELECTED and self.job.hired_at is None:
            return str(_("The job closed without a hire"))
        return str(self.get_status_display())


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("In progress")
        DISPUTED = "disputed", _("In dispute")
        ENDED = "ended", _("Ended")

    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="contract")
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="contract")
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_contracts"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="freelance_contracts"
    )
    title = models.CharField(_("title"), max_length=120)
    currency = models.CharField(max_length=3, default="EUR")
    # Fixed at hire: a later change of the fee settings never changes a running contract.
    client_fee_bps = models.PositiveIntegerField(default=0)
    crowd_fee_bps = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # One side asked to end while money is in escrow; the other side's "end" agrees.
    end_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["freelancer", "status"]),
            models.Index(fields=["client", "status"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:contract", kwargs={"pk": self.pk})


class Milestone(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Not funded yet")
        FUNDED = "funded", _("Funded, in progress")
        SUBMITTED = "submitted", _("Delivered, waiting for approval")
        CHANGES = "changes", _("Changes requested")
        RELEASED = "released", _("Approved and paid")
        REFUNDED = "refunded", _("Refunded")
        DISPUTED = "disputed", _("In dispute")
        RESOLVED = "resolved", _("Settled by split")
        CANCELLED = "cancelled", _("Cancelled")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("title"), max_length=120)
    amount = models.BigIntegerField(_("amount"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    client_fee = models.BigIntegerField(default=0)  # paid into escrow with the amount
    changes_count = models.PositiveSmallIntegerField(default=0)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    funded_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    auto_approved = models.BooleanField(default=False)
    paid_net = models.BigIntegerField(default=0)  # what reached the freelancer's wallet
    refunded = models.BigIntegerField(default=0)  # what went back to the client

    class Meta:
        ordering = ["contract", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(
                condition=Q(client_fee__gte=0, paid_net__gte=0, refunded__gte=0),
                name="milestone_money_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def reference(self) -> str:
        return f"milestone:{self.pk}"

    @property
    def in_escrow(self) -> bool:
        return self.status in {
            self.Status.FUNDED,
            self.Status.SUBMITTED,
            self.Status.CHANGES,
            self.Status.DISPUTED,
        }


def delivery_path(instance: models.Model, filename: str) -> str:
    return f"projects/deliveries/{filename}"


class Delivery(models.Model):
    """The freelancer's work on a milestone; the client answers it once."""

    class Answer(models.TextChoices):
        WAITING = "waiting", _("Waiting for the client")
        APPROVED = "approved", _("Approved")
        CHANGES = "changes", _("Changes requested")

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="deliveries")
    message = models.TextField(_("message"), max_length=5000)
    answer = models.CharField(max_length=10, choices=Answer.choices, default=Answer.WAITING)
    answer_reason = models.TextField(_("what to change"), max_length=5000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class DeliveryFile(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="files")
    content_type = models.CharField(max_length=60)
    original_name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    file = models.FileField(storage=private_storage, upload_to=delivery_path, max_length=300)

    class Meta:
        ordering = ["id"]


class Dispute(models.Model):
    """Cheap for small amounts: the sides agree a split within the step's deadline (no
    staff), else staff decide a split with a written reason. No fee for either step; the
    money stays in escrow until then and moves once."""

    class Status(models.TextChoices):
        NEGOTIATING = "negotiating", _("The two sides propose a split")
        STAFF = "staff", _("Staff decide")
        RESOLVED = "resolved", _("Settled")

    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="dispute")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), max_length=5000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEGOTIATING)
    amount = models.BigIntegerField()  # what the disputed milestones hold (without fees)
    step_deadline = models.DateTimeField()
    # The open offer: what the freelancer gets of ``amount``; the rest goes back.
    offer_freelancer = models.BigIntegerField(null=True, blank=True)
    offer_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    freelancer_share = models.BigIntegerField(null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), max_length=5000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(
                condition=Q(freelancer_share__isnull=True)
                | Q(freelancer_share__gte=0, freelancer_share__lte=models.F("amount")),
                name="dispute_share_in_range",
            ),
        ]


class Review(models.Model):
    """One side's rating of the other after the contract ended; revealed when both are in or
    after the window (neither can retaliate), never edited."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_reviews"
    )
    # True: the freelancer is reviewed (by the client); False: the client is reviewed.
    of_freelancer = models.BooleanField()
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.TextField(_("review"), max_length=3000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "author"], name="review_once_per_side"),
            models.UniqueConstraint(
                fields=["contract", "of_freelancer"], name="review_one_per_direction"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_range"
            ),
        ]
        indexes = [models.Index(fields=["subject", "-created_at"])]
