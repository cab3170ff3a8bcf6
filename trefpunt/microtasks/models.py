"""Microtask batches: items handed to workers under leases, answers, review and pay.

Invariants the database enforces:

- a worker answers an item at most once (unique ``Answer(worker, item)``);
- a worker holds at most one active lease per item and per batch (partial unique
  constraints on ``Lease``), so a worker works on one item of a batch at a time;
- an item never holds more answers than its target (check constraint).

What the database cannot enforce alone — *answers plus live leases never exceed
the item's target* — is kept by ``services.lease_claim``: every claim and every
submission of an item happens under that item's row lock, and the claim counts
the live leases again after taking the lock. A lease is live while its status is
``active`` and ``expires_at`` lies in the future, so an expired lease frees its
item by query; nothing has to sweep first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import limits

if TYPE_CHECKING:
    from trefpunt.ledger.funded import Work


class Batch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    class Strategy(models.TextChoices):
        DEPTH = "depth", _("Depth-first (finish items fastest)")
        BREADTH = "breadth", _("Breadth-first (spread answers evenly)")
        RANDOM = "random", _("Random order")

    class Method(models.TextChoices):
        MV = "mv", _("Majority vote")
        WMV = "wmv", _("Weighted majority vote")
        DS = "ds", _("Dawid-Skene")
        ODS = "ods", _("One-coin Dawid-Skene")

    class TestScope(models.TextChoices):
        BATCH = "batch", _("This batch")
        CLIENT = "client", _("All batches of this client")

    class PauseReason(models.TextChoices):
        NONE = "", _("Not paused")
        CLIENT = "client", _("Paused by the client")
        FAIR_PAY = "fair_pay", _("Pays below the minimum hourly rate")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="microtask_batches",
        verbose_name=_("owner"),
    )
    # Set when the batch is posted (and paid) in an organisation's name.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="microtask_batches",
        verbose_name=pgettext_lazy("model", "organisation"),
    )
    title = models.CharField(_("title"), max_length=limits.TITLE_MAX_LENGTH)
    instructions = models.TextField(
        _("instructions"), max_length=limits.INSTRUCTIONS_MAX_LENGTH, blank=True
    )
    # The answer form: a list of field specs, see ``forms_spec.py``.
    form = models.JSONField(_("answer form"), default=list)
    # How an item is shown: a list of {"column", "widget", "label"}, see ``rendering.py``.
    display = models.JSONField(_("item display"), default=list)
    # Every column seen in uploaded items, in first-seen order (export column order).
    item_columns = models.JSONField(_("item columns"), default=list, blank=True)
    min_answers = models.PositiveSmallIntegerField(
        _("minimum answers per item"), default=limits.DEFAULT_ANSWERS_PER_ITEM
    )
    max_answers = models.PositiveSmallIntegerField(
        _("maximum answers per item"), default=limits.DEFAULT_ANSWERS_PER_ITEM
    )
    reward = models.PositiveIntegerField(_("reward per answer (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    estimated_seconds = models.PositiveIntegerField(
        _("estimated seconds per task"), default=limits.DEFAULT_ESTIMATED_SECONDS
    )
    lease_seconds = models.PositiveIntegerField(
        _("lease time (seconds)"), default=limits.DEFAULT_LEASE_SECONDS
    )
    strategy = models.CharField(
        _("item order"), max_length=10, choices=Strategy.choices, default=Strategy.DEPTH
    )
    # Task pages ("task suites"): how many items a worker claims and answers at once.
    page_size = models.PositiveSmallIntegerField(
        _("items per page"), default=limits.DEFAULT_PAGE_SIZE
    )
    # Worker requirements; empty means no requirement.
    min_approval_rate = models.FloatField(_("minimum approval rate (0–1)"), null=True, blank=True)
    min_gold_accuracy = models.FloatField(
        _("minimum accuracy on test questions (0–1)"), null=True, blank=True
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    max_answers_per_worker = models.PositiveIntegerField(
        _("answers per worker at most"), null=True, blank=True
    )
    # Quality: how answers are combined, when an item has enough, test questions.
    aggregation_method = models.CharField(
        _("aggregation method"), max_length=4, choices=Method.choices, default=Method.DS
    )
    confidence_target = models.FloatField(
        _("confidence target (0–1)"), default=limits.DEFAULT_CONFIDENCE_TARGET
    )
    gold_rate = models.FloatField(
        _("share of test questions (0–1)"), default=limits.DEFAULT_GOLD_RATE
    )
    gold_feedback = models.BooleanField(_("feedback on test questions"), default=False)
    # Qualification test (``services.qualification``): workers first answer this many test
    # questions (gold items) in one go; 0 means no test. Passing (a share right of at least
    # ``test_pass_mark``, within ``test_attempts`` tries) qualifies them for this batch, or
    # with scope "client" for every batch of the same client that has a test.
    test_questions = models.PositiveSmallIntegerField(
        _("questions in the qualification test"), default=0
    )
    test_pass_mark = models.FloatField(_("pass mark of the test (0–1)"), default=0.8)
    test_attempts = models.PositiveSmallIntegerField(_("tries at the test"), default=2)
    test_scope = models.CharField(
        _("test counts for"), max_length=10, choices=TestScope.choices, default=TestScope.BATCH
    )
    # The last full fit (``services.batch_aggregate``), read by the per-answer update without
    # re-fitting: per single-choice field its classes, class prior and the pooled confusion
    # matrix of an unseen worker (see ``quality.py``); each worker's own matrices are on
    # their ``BatchWorker.estimate``. ``None`` until the first fit.
    quality_model = models.JSONField(_("quality model"), null=True, blank=True)
    # What the last fit saw: how many answers, up to which answer id, at which quality
    # version. ``quality_version`` goes up when the set of counted workers changes
    # (exclusion), so a fit is due when it differs from ``fit_version`` or newer answers exist.
    fit_answers = models.PositiveIntegerField(_("answers in the last fit"), default=0)
    fit_through = models.BigIntegerField(_("last fit up to answer id"), default=0)
    fit_version = models.PositiveIntegerField(_("quality version of the last fit"), default=0)
    quality_version = models.PositiveIntegerField(_("quality version"), default=0)
    fitted_at = models.DateTimeField(_("last fit at"), null=True, blank=True)
    # The ``fit_through`` whose successor fit the answer path has enqueued: one enqueue per
    # fit however many answers cross the threshold at once (``services._aggregate_if_due``).
    fit_requested_through = models.BigIntegerField(
        _("next fit requested after answer id"), default=-1
    )
    # How many of the batch's answers the last fit saw. Answers stored so far are counted by
    # the answer path on ``AnswerTally`` rows (one statement after each answer's
    # transaction): "is a fit due?" and the fair-pay window compare the two numbers instead
    # of counting answers.
    fit_received = models.PositiveIntegerField(_("answers received at the last fit"), default=0)

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    pause_reason = models.CharField(
        _("pause reason"),
        max_length=10,
        choices=PauseReason.choices,
        default=PauseReason.NONE,
        blank=True,
    )
    # Fee rates fixed when the batch is published, so later setting changes cannot
    # make the escrow disagree with what it must pay.
    client_fee_bps = models.PositiveIntegerField(_("client fee (basis points)"), default=0)
    crowd_fee_bps = models.PositiveIntegerField(_("crowd fee (basis points)"), default=0)
    # Cached statistic, refreshed by the fair-pay check; not an invariant.
    median_seconds = models.PositiveIntegerField(
        _("median seconds per task"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.CheckConstraint(condition=Q(reward__gt=0), name="batch_reward_positive"),
            models.CheckConstraint(
                condition=Q(min_answers__gte=1) & Q(max_answers__gte=F("min_answers")),
                name="batch_redundancy_valid",
            ),
            models.CheckConstraint(
                condition=Q(lease_seconds__gte=limits.LEASE_SECONDS_MIN), name="batch_lease_min"
            ),
            models.CheckConstraint(
                condition=Q(confidence_target__gt=0) & Q(confidence_target__lte=1),
                name="batch_confidence_target_range",
            ),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="batch_gold_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(page_size__gte=1) & Q(page_size__lte=limits.PAGE_SIZE_MAX),
                name="batch_page_size_range",
            ),
            models.CheckConstraint(
                condition=Q(test_pass_mark__gt=0)
                & Q(test_pass_mark__lte=1)
                & Q(test_attempts__gte=1),
                name="batch_test_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "-published_at"], name="batch_status_pub")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("microtasks:batch_detail", args=[self.pk])

    @property
    def escrow_reference(self) -> str:
        return f"batch:{self.pk}"

    @property
    def funded_work(self) -> Work:
        """The batch as the ledger's funded work: its escrow pays the answers, funded from
        (and refunded to) the organisation's wallet, or the owner's."""
        from trefpunt.ledger.funded import Work

        return Work(
            reference=self.escrow_reference,
            currency=self.currency,
            poster_id=self.owner_id,
            organisation_id=self.organisation_id,
        )

    @property
    def is_workable(self) -> bool:
        return self.status == self.Status.OPEN


class Item(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETE = "complete", _("Complete")
        # Finished (at its maximum answers, or its batch closed) below the confidence
        # target: the client should check it (``services.item_states``).
        REVIEW = "review", _("Needs review")
        # The batch closed before the item had enough answers.
        CLOSED = "closed", _("Closed early")

    # No index of its own: every index of the table leads with the batch (the unique
    # position, status, confidence and the open-item orders), and a fit rewrites every
    # row, paying one entry per index.
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items", db_index=False)
    # 1-based order within the batch (upload order).
    position = models.PositiveIntegerField()
    data = models.JSONField(default=dict)
    is_gold = models.BooleanField(default=False)
    gold_answer = models.JSONField(null=True, blank=True)
    # Starts at the batch's min answers; adaptive redundancy may raise it up to max answers.
    answers_target = models.PositiveSmallIntegerField()
    # Denormalised count of answers, only ever changed under this row's lock.
    answers_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Filled in by aggregation (per answer and by the full fit); exported as soon as they
    # exist. ``aggregated_answer`` has the shape of an answer; ``confidence`` is that of its
    # first categorical field; ``aggregate_details`` holds the agreement and per-field
    # figures (numeric: median, trimmed mean, spread), see ``quality.py``.
    aggregated_answer = models.JSONField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    aggregate_details = models.JSONField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="item_position_unique"),
            models.CheckConstraint(
                condition=Q(answers_count__lte=F("answers_target")),
                name="item_answers_within_target",
            ),
        ]
        indexes = [
            # The scheduler walks these instead of sorting the open items of a batch.
            models.Index(
                fields=["batch", "-answers_count", "id"],
                condition=Q(status="open"),
                name="item_open_depth",
            ),
            models.Index(
                fields=["batch", "answers_count", "id"],
                condition=Q(status="open"),
                name="item_open_breadth",
            ),
            # Items of a batch in a state other than complete (review, closed, open): most
            # items end complete, and a fit that completes an item then adds no entry here
            # (its row write is not a HOT update: status and confidence are indexed). The
            # state's queries name one state, which implies the condition; the batch's
            # counts over all its items read them by ``item_position_unique``.
            models.Index(
                fields=["batch", "status"],
                condition=~Q(status="complete"),
                name="item_batch_unfinished",
            ),
            # Test questions are mixed in by their own query (``services._claim_candidates``).
            models.Index(
                fields=["batch", "-answers_count", "id"],
                condition=Q(status="open", is_gold=True),
                name="item_open_gold",
            ),
            # The results page: least certain first (kept whole: without it page one of a
            # 100,000-item batch sorts the batch, 1 ms → 150 ms).
            models.Index(fields=["batch", "confidence", "id"], name="item_batch_confidence"),
        ]

    def __str__(self) -> str:
        return f"item {self.position} of batch {self.batch_id}"


class Lease(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUBMITTED = "submitted", _("Answered")
        EXPIRED = "expired", _("Expired")
        SKIPPED = "skipped", _("Skipped")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="leases")
    # No index of their own for the item and the worker: ``lease_item_worker`` leads with
    # the item, ``lease_worker_batch`` with the worker, and every claim inserts a lease and
    # every answer rewrites one (its status is indexed), paying one entry per index.
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="leases", db_index=False)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="microtask_leases",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The lease's place on the worker's task page (0 for a single item): a worker holds at
    # most one active lease per slot of a batch, so two claims racing for the same worker
    # (a double click, a retry) cannot both hand out a page.
    slot = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "item"],
                condition=Q(status="active"),
                name="lease_one_active_per_worker_item",
            ),
            models.UniqueConstraint(
                fields=["worker", "batch", "slot"],
                condition=Q(status="active"),
                name="lease_one_active_per_worker_slot",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="lease_expires_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["item", "worker"], name="lease_item_worker"),
            models.Index(
                fields=["item", "expires_at"],
                condition=Q(status="active"),
                name="lease_active_item",
            ),
            models.Index(fields=["worker", "batch", "status"], name="lease_worker_batch"),
        ]

    def __str__(self) -> str:
        return f"lease {self.pk} on item {self.item_id}"


class Answer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        APPEALED = "appealed", _("Appealed")
        UPHELD = "upheld", _("Rejection upheld")
        OVERTURNED = "overturned", _("Approved on appeal")

    PAID_STATUSES = (Status.APPROVED, Status.OVERTURNED)

    # No index of their own for the batch and the worker: ``answer_batch_id`` (and four
    # more) lead with the batch, ``answer_once_per_worker_item`` with the worker, and every
    # answer inserts a row, paying one entry per index.
    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="answers")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="microtask_answers",
        db_index=False,
    )
    lease = models.OneToOneField(Lease, on_delete=models.PROTECT, related_name="answer")
    data = models.JSONField()
    working_seconds = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reject_reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index instead (``Meta``)
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    appeal_message = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    appeal_note = models.TextField(blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index instead (``Meta``)
    )
    appeal_decided_at = models.DateTimeField(null=True, blank=True)
    # Gross reward paid out so far (before any crowd fee); rises when the client raises
    # the reward of a batch whose answers were already approved.
    paid_reward = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "item"], name="answer_once_per_worker_item"),
        ]
        indexes = [
            models.Index(fields=["batch", "status"], name="answer_batch_status"),
            models.Index(fields=["batch", "worker"], name="answer_batch_worker"),
            models.Index(fields=["worker", "-created_at"], name="answer_worker_recent"),
            models.Index(fields=["batch", "working_seconds"], name="answer_batch_seconds"),
            models.Index(fields=["batch", "-created_at"], name="answer_batch_recent"),
            # Answers newer than the last fit (``Batch.fit_through``), counted per answer.
            models.Index(fields=["batch", "id"], name="answer_batch_id"),
            # Who reviewed or decided an appeal (for the protection of their accounts): only
            # the rows that name someone, so storing a new answer (none does) writes no entry.
            models.Index(
                fields=["reviewed_by"],
                condition=models.Q(reviewed_by__isnull=False),
                name="answer_reviewed_by",
            ),
            models.Index(
                fields=["appeal_decided_by"],
                condition=models.Q(appeal_decided_by__isnull=False),
                name="answer_appeal_decided_by",
            ),
        ]

    def __str__(self) -> str:
        return f"answer {self.pk} to item {self.item_id}"

    @property
    def is_paid_status(self) -> bool:
        return self.status in self.PAID_STATUSES


class BatchWorker(models.Model):
    """What a batch knows about one worker: exclusion by the client and quality figures
    (gold accuracy, estimated skill, spammer flag) that the aggregation fills in.

    ``estimate`` is the worker's part of the batch's last fit, read by the per-answer
    update: ``{field name: {"confusion": K x K rows (true class -> answer), "weight": w}}``
    for every single-choice field (``quality.py``). ``skill`` is the Dawid-Skene probability
    of a right answer on the first single-choice field; ``spam_score`` its Raykar-Yu score
    (0 = answers carry no information, 1 = perfect). Gold counts are live: every answer to a
    test question updates them, and each fit recounts them.
    """

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="workers")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="microtask_batches_worked"
    )
    excluded = models.BooleanField(default=False)
    excluded_at = models.DateTimeField(null=True, blank=True)
    flagged_spammer = models.BooleanField(default=False)
    gold_answers = models.PositiveIntegerField(default=0)
    gold_correct = models.PositiveIntegerField(default=0)
    skill = models.FloatField(null=True, blank=True)
    spam_score = models.FloatField(null=True, blank=True)
    estimate = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "worker"], name="batch_worker_unique"),
        ]


class WorkerQuality(models.Model):
    """A worker's accuracy on gold questions over every batch; batches can require a minimum.

    The counts are the sums of the worker's ``BatchWorker`` gold counts. ``gold_accuracy`` is
    the plain share correct, recorded once the worker has ``quality.GOLD_RECORD_MIN`` gold
    answers (before that it is ``None``: no record, which keeps nobody out). Not the Wilson
    lower bound: for a newcomer's few answers that bound is low by construction (5 of 5
    right gives 57 %), so it would keep every new worker out of a batch asking for 80 %.
    """

    worker = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="microtask_quality"
    )
    gold_answers = models.PositiveIntegerField(default=0)
    gold_correct = models.PositiveIntegerField(default=0)
    gold_accuracy = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class QualificationAttempt(models.Model):
    """One try of a worker at a batch's qualification test: the test questions they got,
    what they answered and how many were right. Numbered per worker and batch; the unique
    number keeps two tries sent at once from both counting as the same one."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="test_attempts_made")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="microtask_tests"
    )
    number = models.PositiveSmallIntegerField()
    answers = models.JSONField(default=dict)
    correct = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["batch", "worker", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "worker", "number"], name="qualification_attempt_unique"
            ),
            models.CheckConstraint(
                condition=Q(correct__lte=F("total")), name="qualification_correct_within_total"
            ),
        ]
        indexes = [models.Index(fields=["worker", "passed"], name="qualification_worker")]

    def __str__(self) -> str:
        return f"test attempt {self.number} of worker {self.worker_id} on batch {self.batch_id}"


class AnswerTally(models.Model):
    """Answers stored in a batch, counted by the answer path on ``TALLY_SHARDS`` rows per
    batch (a worker counts on row ``worker id % TALLY_SHARDS``): one counter row on the
    batch made every answer of the batch wait for the one before it to commit. Their sum is
    the batch's answers received (``selectors.batch_answers_received``). A trigger, not an
    invariant: a count lost to a crash only delays a fit (the sweep fits a batch with
    answers newer than ``fit_through`` anyway)."""

    TALLY_SHARDS = 16

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="tallies")
    shard = models.PositiveSmallIntegerField()
    answers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "shard"], name="answer_tally_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.answers} answers on shard {self.shard} of batch {self.batch_id}"
