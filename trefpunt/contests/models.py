"""Contests: a brief with guaranteed prizes in escrow, entries from the crowd, judging,
award and handover.

Lifecycle (each move is one service in ``services/``, made by the state machines in
``states.py``: a conditional update, with the event recorded in ``core.Event``)::

    draft → open (escrow funded) → judging (deadline passed or closed early)
          → awarded (client picked winners) → completed (files handed over)
    judging → completed (the guarantee split the prizes; nothing to hand over)
    draft | open without entries → cancelled (full refund)
    open without entries at the deadline, or judging without eligible entries → cancelled

Entry: submitted → (finalist) → winner | not_selected | declined (reason) | withdrawn.

Files never get a public URL: every file lives on the ``private`` storage and is
streamed by a permission-checked view.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import limits

if TYPE_CHECKING:
    from trefpunt.ledger.funded import Work


def private_storage() -> Storage:
    """The storage for entry, attachment and handover files (a callable, so tests and
    deployments can swap the backend through ``STORAGES``)."""
    return storages["private"]


class Category(models.TextChoices):
    LOGO = "logo", _("Logo")
    BRAND_IDENTITY = "brand_identity", _("Brand identity")
    ILLUSTRATION = "illustration", _("Illustration")
    WEB_APP_DESIGN = "web_app_design", _("Web or app design")
    NAMING = "naming", _("Naming")
    SLOGAN = "slogan", _("Slogan")
    PRODUCT_IDEA = "product_idea", _("Product idea")
    OTHER = "other", _("Other")


class Contest(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for entries")
        JUDGING = "judging", _("Judging")
        AWARDED = "awarded", _("Awarded")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Visibility(models.TextChoices):
        OPEN = "open", _("Open: entrants see each other's entries")
        BLIND = "blind", _("Blind: entrants see only their own entries")

    class AwardMethod(models.TextChoices):
        CLIENT = "client", _("Chosen by the client")
        GUARANTEE = "guarantee", _("Split by the guarantee")

    title = models.CharField(_("title"), max_length=limits.TITLE_MAX)
    summary = models.CharField(_("summary"), max_length=limits.SUMMARY_MAX)
    description = models.TextField(_("description"), max_length=limits.DESCRIPTION_MAX, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    # Posted by a person; when ``organisation`` is set, posted in its name and
    # managed by its owners and admins.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contests",
        verbose_name=_("created by"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contests",
        verbose_name=pgettext_lazy("model", "organisation"),
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    finalist_stipend = models.BigIntegerField(_("finalist stipend"), default=0)
    finalists_max = models.PositiveSmallIntegerField(
        _("finalists at most"), default=limits.FINALISTS_DEFAULT
    )
    entry_deadline = models.DateTimeField(_("entry deadline"))
    judging_days = models.PositiveSmallIntegerField(
        _("judging days"), default=limits.JUDGING_DAYS_DEFAULT
    )
    visibility = models.CharField(
        _("entry visibility"), max_length=10, choices=Visibility.choices, default=Visibility.OPEN
    )
    max_entries_per_entrant = models.PositiveSmallIntegerField(
        _("entries per entrant"), default=limits.ENTRIES_PER_ENTRANT_DEFAULT
    )
    is_private = models.BooleanField(_("private contest"), default=False)
    nda_text = models.TextField(
        _("non-disclosure agreement"), max_length=limits.NDA_MAX, blank=True
    )

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    award_method = models.CharField(
        _("award method"), max_length=10, choices=AwardMethod.choices, blank=True, default=""
    )
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True, default="")
    # Fixed at publish, so a later change of the fee settings never changes a
    # running contest.
    client_fee_bps = models.PositiveIntegerField(_("client fee (basis points)"), default=0)
    crowd_fee_bps = models.PositiveIntegerField(_("crowd fee (basis points)"), default=0)
    client_fee = models.BigIntegerField(_("client fee (cents)"), default=0)
    funded_amount = models.BigIntegerField(_("funded amount (cents)"), default=0)

    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    judging_started_at = models.DateTimeField(_("judging started at"), null=True, blank=True)
    judging_ends_at = models.DateTimeField(_("judging ends at"), null=True, blank=True)
    finalist_deadline = models.DateTimeField(_("finalist deadline"), null=True, blank=True)
    awarded_at = models.DateTimeField(_("awarded at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The sum of the prizes, kept by the one service that writes them
    # (``services.brief._prizes_replace``): the list's prize filters and the home page's
    # total read a column instead of summing prizes per contest.
    prize_total = models.PositiveBigIntegerField(_("prizes in total (cents)"), default=0)
    # The public list's order as stored columns the database keeps in step with the status
    # and deadlines, so one index serves it: open contests first, soonest deadline first;
    # then those in judging, soonest decision first; then the rest, newest first.
    list_rank = models.GeneratedField(
        expression=Case(
            When(status="open", then=Value(0)),
            When(status="judging", then=Value(1)),
            default=Value(2),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    list_due = models.GeneratedField(
        expression=Case(
            When(status="open", then=F("entry_deadline")),
            When(status="judging", then=F("judging_ends_at")),
            default=None,
            output_field=models.DateTimeField(),
        ),
        output_field=models.DateTimeField(null=True),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("contest")
        verbose_name_plural = _("contests")
        ordering = ["-created_at", "-id"]
        # The database refuses nonsense; the services hold the tighter limits in ``limits``.
        constraints = [
            models.CheckConstraint(
                condition=Q(finalist_stipend__gte=0), name="contest_stipend_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(judging_days__gte=1, judging_days__lte=60),
                name="contest_judging_days_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    max_entries_per_entrant__gte=1,
                    max_entries_per_entrant__lte=limits.ENTRIES_PER_ENTRANT_MAX,
                ),
                name="contest_max_entries_range",
            ),
            models.CheckConstraint(
                condition=Q(finalists_max__lte=20), name="contest_finalists_max_range"
            ),
            models.CheckConstraint(
                condition=Q(funded_amount__gte=0, client_fee__gte=0),
                name="contest_money_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "entry_deadline"]),
            models.Index(fields=["status", "judging_ends_at"]),
            # ``selectors.contest_list_public``'s order, exactly. No NULLS LAST (SQLite
            # cannot index it): within a rank every due is set (open, judging) or none is
            # (the rest); PostgreSQL sorts NULLs last anyway. Only the listed statuses, and
            # with the filtered columns included, so a deep page's ids (and its count) are
            # read from the index alone, never from every skipped row.
            models.Index(
                fields=["list_rank", "list_due", "-published_at", "-id"],
                include=["status", "category", "prize_total"],
                condition=Q(
                    is_private=False, status__in=["open", "judging", "awarded", "completed"]
                ),
                name="contest_public_listed",
            ),
            models.Index(
                fields=["prize_total"], condition=Q(is_private=False), name="contest_public_prize"
            ),
            # The client dashboard: a client's contests, newest first.
            models.Index(fields=["created_by", "-created_at", "-id"], name="contest_creator"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("contests:detail", kwargs={"pk": self.pk})

    @property
    def escrow_reference(self) -> str:
        return f"contest:{self.pk}"

    @property
    def funded_work(self) -> Work:
        """What the ledger holds for this contest: prizes, stipends and the client fee in
        the escrow ``contest:{id}``, paid by the organisation it is posted for or else by
        the poster."""
        from trefpunt.ledger.funded import Work

        return Work(
            reference=self.escrow_reference,
            currency=self.currency,
            poster_id=self.created_by_id,
            organisation_id=self.organisation_id,
        )

    @property
    def stipend_budget(self) -> int:
        return self.finalist_stipend * self.finalists_max

    @property
    def is_blind(self) -> bool:
        return self.visibility == self.Visibility.BLIND

    @property
    def has_nda(self) -> bool:
        return self.is_private and bool(self.nda_text.strip())

    @property
    def nda_version(self) -> str:
        """The version of the NDA text an invitee accepts: its SHA-256, so a changed text
        needs a new acceptance and a kept acceptance names exactly what was agreed to."""
        return hashlib.sha256(self.nda_text.encode()).hexdigest()


class Prize(models.Model):
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="prizes")
    position = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField()
    # The entry the client chose; empty for a prize the guarantee split.
    winner = models.OneToOneField(
        "Entry", on_delete=models.PROTECT, null=True, blank=True, related_name="prize_won"
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["contest", "position"], name="prize_position_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="prize_amount_positive"),
            models.CheckConstraint(
                condition=Q(position__gte=1, position__lte=limits.PRIZES_MAX),
                name="prize_position_range",
            ),
        ]

    def __str__(self) -> str:
        return f"prize {self.position} of contest {self.contest_id}"


def attachment_path(instance: ContestAttachment, filename: str) -> str:
    return f"contests/{instance.contest_id}/brief/{filename}"


class ContestAttachment(models.Model):
    """A reference file of the brief (shown to whoever may read the brief)."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=private_storage, upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class ContestInvitation(models.Model):
    """A person invited to a private contest; only they (and the client) see it.

    A member is invited by handle or address (``user`` set at once); someone without an
    account by address only (``email`` set, ``user`` empty until they sign up with that
    address, verify it and open the invitation link, see ``contest_invitation_claim``).

    An invitee of a contest with an NDA sees its title, prizes and NDA, and the brief,
    reference files and entries only once they accepted that NDA: the moment and the
    version (``Contest.nda_version``, a hash of the text) are kept, so an acceptance is
    always of a known text."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="contest_invitations",
        null=True,
        blank=True,
    )
    email = models.EmailField(blank=True, default="")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    nda_accepted_at = models.DateTimeField(null=True, blank=True)
    nda_version = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contest", "user"], name="contest_invitation_unique"),
            models.UniqueConstraint(
                fields=["contest", "email"],
                condition=~Q(email=""),
                name="contest_invitation_email_unique",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""),
                name="contest_invitation_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation to contest {self.contest_id}"


class Entry(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        FINALIST = "finalist", _("Finalist")
        WINNER = "winner", _("Winner")
        NOT_SELECTED = "not_selected", _("Not selected")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class DeclineCode(models.TextChoices):
        # A matter of taste: the entry stays in the guarantee.
        FIT = "fit", _("Not what I am looking for")
        # Rule breaks: out of the guarantee only once staff uphold the decline.
        COPIED = "copied", _("Copied or not original")
        RULES = "rules", _("Breaks the contest rules")

    class DeclineReview(models.TextChoices):
        NONE = "", _("No review needed")
        PENDING = "pending", _("Waiting for staff review")
        UPHELD = "upheld", _("Upheld by staff")
        OVERTURNED = "overturned", _("Overturned by staff")

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="entries")
    entrant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contest_entries"
    )
    # "#12" within the contest, in order of submission.
    number = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=limits.ENTRY_TITLE_MAX)
    description = models.TextField(
        _("description"), max_length=limits.ENTRY_DESCRIPTION_MAX, blank=True
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    originality_declared = models.BooleanField(default=False)
    # The client's judging: rating and note are private to the client; the
    # entrant sees the feedback and the decline reason.
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    private_note = models.TextField(max_length=limits.NOTE_MAX, blank=True)
    feedback = models.TextField(max_length=limits.NOTE_MAX, blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(max_length=limits.REASON_MAX, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_code = models.CharField(
        max_length=10, choices=DeclineCode.choices, blank=True, default=""
    )
    # A decline for a rule break (copied, rules) is reviewed by staff; only an upheld one
    # takes the entry out of the guarantee (see ``services.contest_guarantee``).
    decline_review = models.CharField(
        max_length=10, choices=DeclineReview.choices, blank=True, default=""
    )
    decline_reviewed_at = models.DateTimeField(null=True, blank=True)
    decline_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Hidden by staff (a report upheld, or its entrant suspended): only the entrant, the
    # client and staff still see it (see ``moderation``).
    hidden_at = models.DateTimeField(null=True, blank=True)
    finalist_at = models.DateTimeField(null=True, blank=True)
    current_version = models.ForeignKey(
        "EntryVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_flagged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["contest", "number"], name="entry_number_unique"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True)
                | Q(rating__gte=limits.RATING_MIN, rating__lte=limits.RATING_MAX),
                name="entry_rating_range",
            ),
            models.CheckConstraint(
                condition=Q(originality_declared=True), name="entry_originality_declared"
            ),
        ]
        indexes = [
            # With what the client dashboard counts per contest (``client_dashboard_figures``:
            # entries, unrated, flagged), so a page's counts are read from the index alone.
            models.Index(
                fields=["contest", "status"],
                include=["rating", "is_flagged"],
                name="entry_contest_status",
            ),
            # The entrant's entries page, newest first, paged by ids from the index alone.
            models.Index(fields=["entrant", "-created_at", "-id"], name="entry_entrant_newest"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contests:entry", kwargs={"pk": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.SUBMITTED, self.Status.FINALIST}

    @property
    def shares_in_guarantee(self) -> bool:
        """Active entries, and declined ones unless staff upheld a rule-break decline."""
        if self.status == self.Status.DECLINED:
            return self.decline_review != self.DeclineReview.UPHELD
        return self.is_active


class EntryVersion(models.Model):
    """One submission of an entry: the first one and every revision, all kept."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.TextField(max_length=limits.NOTE_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry", "number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="entry_version_unique"),
        ]


def entry_file_path(instance: EntryFile, filename: str) -> str:
    return f"contests/entries/{filename}"


class FileKind(models.TextChoices):
    IMAGE = "image", _("Image")
    PDF = "pdf", _("PDF")
    ZIP = "zip", _("ZIP archive")


class EntryFile(models.Model):
    """An uploaded file of an entry version, with its derived images.

    ``file`` is the original (re-encoded without metadata for images);
    ``thumb`` a clean small image and ``preview_clean`` a clean mid-size one for the
    entrant and the client (the original is only ever a download);
    ``thumb_public`` and ``preview`` are downscaled and watermarked, the only
    image anyone else ever gets.
    """

    version = models.ForeignKey(EntryVersion, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=FileKind.choices)
    content_type = models.CharField(max_length=60)
    original_name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    file = models.FileField(storage=private_storage, upload_to=entry_file_path, max_length=300)
    thumb = models.FileField(
        storage=private_storage, upload_to=entry_file_path, max_length=300, blank=True
    )
    thumb_public = models.FileField(
        storage=private_storage, upload_to=entry_file_path, max_length=300, blank=True
    )
    preview = models.FileField(
        storage=private_storage, upload_to=entry_file_path, max_length=300, blank=True
    )
    preview_clean = models.FileField(
        storage=private_storage, upload_to=entry_file_path, max_length=300, blank=True
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # 64-bit perceptual hashes stored as signed integers (see originality.py).
    phash = models.BigIntegerField(null=True, blank=True)
    dhash = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]

    @property
    def is_image(self) -> bool:
        return self.kind == FileKind.IMAGE


class EntryFlag(models.Model):
    """A possible copy: found by the perceptual hash, or reported by a person."""

    class Kind(models.TextChoices):
        NEAR_DUPLICATE = "near_duplicate", _("Near-duplicate image")
        REPORT = "report", _("Reported as copied")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.ForeignKey(
        EntryFile, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    other_entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    other_file = models.ForeignKey(
        EntryFile, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    distance = models.PositiveSmallIntegerField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(max_length=limits.REASON_MAX, blank=True)
    # Staff looked and found nothing wrong.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "reported_by"],
                condition=Q(kind="report"),
                name="entry_flag_one_report_per_user",
            ),
            models.UniqueConstraint(
                fields=["file", "other_file"],
                condition=Q(kind="near_duplicate"),
                name="entry_flag_pair_unique",
            ),
        ]


class Payment(models.Model):
    """One payment out of a contest's escrow to a crowd member (one journal entry each)."""

    class Kind(models.TextChoices):
        PRIZE = "prize", _("Prize")
        SHARE = "share", _("Share of a guaranteed prize")
        STIPEND = "stipend", _("Finalist stipend")

    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="payments")
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="payments")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contest_payments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    prize = models.ForeignKey(
        Prize, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    gross = models.BigIntegerField()
    crowd_fee = models.BigIntegerField()
    client_fee = models.BigIntegerField()
    net = models.BigIntegerField()
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contest", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(gross__gt=0, crowd_fee__gte=0, client_fee__gte=0),
                name="payment_amounts_valid",
            ),
        ]


class Handover(models.Model):
    """The winner hands over final files; the client confirms (or it confirms itself)."""

    class Status(models.TextChoices):
        AWAITING_FILES = "awaiting_files", _("Waiting for the final files")
        DELIVERED = "delivered", _("Delivered, waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")

    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="handover")
    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="handovers")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_FILES)
    note = models.TextField(max_length=limits.NOTE_MAX, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    auto_confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "delivered_at"])]


def handover_file_path(instance: HandoverFile, filename: str) -> str:
    return f"contests/handovers/{filename}"


class HandoverFile(models.Model):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(storage=private_storage, upload_to=handover_file_path, max_length=300)
    original_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=FileKind.choices)
    content_type = models.CharField(max_length=60)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class RightsTransfer(models.Model):
    """The record that the creator's rights in a winning entry passed to the client: who,
    what, under which agreement text (version and the text itself), when."""

    handover = models.OneToOneField(
        Handover, on_delete=models.PROTECT, related_name="rights_transfer"
    )
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recipient_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agreement_version = models.CharField(max_length=20)
    agreement_text = models.TextField()
    transferred_at = models.DateTimeField()
