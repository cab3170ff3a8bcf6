"""Idea calls: a question to the crowd, ideas and improvements, votes and comments, stages
with public reasons, and rewards for the ideas the client takes further.

Call: draft → open (rewards in escrow; ideas and votes) → voting (submission deadline passed;
votes until the voting deadline) → closed (every idea answered; unspent rewards refunded).
Each move is one service in ``services/`` through ``core.states`` (see ``stages.py``). An
idea moves through the call's own stages (``Stage``), each move with a public reason;
reaching the call's reward stage pays the idea's authors from escrow, once.

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


def limit(model: type[models.Model], name: str) -> int:
    """The ``max_length`` of a model field: the one place a text limit is defined."""
    return int(model._meta.get_field(name).max_length or 0)  # type: ignore[union-attr]


def private_storage() -> Storage:
    """Covers and attachments are streamed by permission-checked views only."""
    return storages["private"]


class IdeaCall(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for ideas")
        VOTING = "voting", _("Voting")
        CLOSED = "closed", _("Closed")

    class Audience(models.TextChoices):
        PUBLIC = "public", _("Public: everyone")
        ORGANISATION = "organisation", _("Members of the organisation only")
        INVITED = "invited", _("Invited people only")

    class VotingMode(models.TextChoices):
        UP = "up", _("Up-votes: one per person per idea")
        BUDGET = "budget", _("Budget: each participant spends points across ideas")

    title = models.CharField(_("title"), max_length=120)
    question = models.CharField(_("question"), max_length=280)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="idea_calls"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="idea_calls",
    )
    audience = models.CharField(
        _("audience"), max_length=12, choices=Audience.choices, default=Audience.PUBLIC
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    submission_deadline = models.DateTimeField(_("ideas until"))
    voting_deadline = models.DateTimeField(_("votes until"))
    voting_mode = models.CharField(
        _("voting"), max_length=10, choices=VotingMode.choices, default=VotingMode.UP
    )
    budget_points = models.PositiveSmallIntegerField(_("points per participant"), default=10)
    # Rewards: ``reward_count`` ideas reaching ``reward_stage`` get ``reward_amount`` each.
    currency = models.CharField(max_length=3, default="EUR")
    reward_amount = models.BigIntegerField(_("reward per idea"), default=0)
    reward_count = models.PositiveSmallIntegerField(_("rewarded ideas at most"), default=0)
    reward_stage = models.ForeignKey(
        "Stage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Fixed at publish: a later change of the fee settings never changes a running call.
    client_fee_bps = models.PositiveIntegerField(default=0)
    crowd_fee_bps = models.PositiveIntegerField(default=0)
    client_fee = models.BigIntegerField(default=0)
    funded_amount = models.BigIntegerField(default=0)
    cover = models.FileField(storage=private_storage, upload_to="ideas/covers/", blank=True)
    cover_thumb = models.FileField(storage=private_storage, upload_to="ideas/covers/", blank=True)
    close_reason = models.CharField(_("reason"), max_length=500, blank=True)

    published_at = models.DateTimeField(null=True, blank=True)
    voting_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reward_amount__gte=0, funded_amount__gte=0, client_fee__gte=0),
                name="ideacall_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(budget_points__gte=1, budget_points__lte=1000),
                name="ideacall_budget_range",
            ),
            models.CheckConstraint(
                condition=Q(reward_count__lte=100), name="ideacall_reward_count_range"
            ),
            models.CheckConstraint(
                condition=Q(voting_deadline__gte=models.F("submission_deadline")),
                name="ideacall_voting_after_submission",
            ),
        ]
        indexes = [models.Index(fields=["status", "submission_deadline"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("ideas:call", kwargs={"pk": self.pk})

    @property
    def reward_budget(self) -> int:
        return self.reward_amount * self.reward_count

    @property
    def has_rewards(self) -> bool:
        return self.reward_budget > 0

    @property
    def is_public(self) -> bool:
        return self.audience == self.Audience.PUBLIC

    @property
    def is_budget(self) -> bool:
        return self.voting_mode == self.VotingMode.BUDGET


class Stage(models.Model):
    """A step of the call's pipeline; every ``kind`` but the one ``new`` stage is an answer."""

    class Kind(models.TextChoices):
        NEW = "new", _("Waiting for a decision")
        ACTIVE = "active", _("Being worked on")
        ACCEPTED = "accepted", _("Taken further")
        DECLINED = "declined", _("Not taken further")

    call = models.ForeignKey(IdeaCall, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveSmallIntegerField()
    # The default stages are named in the reader's language from their key; a stage the
    # client renamed or added carries its own ``name``.
    key = models.CharField(max_length=20, blank=True)
    name = models.CharField(_("name"), max_length=40, blank=True)
    kind = models.CharField(_("meaning"), max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["call", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "position"], name="stage_position_unique"),
            models.UniqueConstraint(
                fields=["call"], condition=Q(kind="new"), name="stage_one_entry_per_call"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from .stages import default_stage_label

        return self.name or default_stage_label(self.key)

    @property
    def is_answer(self) -> bool:
        return self.kind != self.Kind.NEW


class CallTag(models.Model):
    """A tag or category the client defines for the call's ideas."""

    call = models.ForeignKey(IdeaCall, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=40)
    slug = models.SlugField(max_length=50)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "slug"], name="calltag_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CallInvitation(models.Model):
    """A person invited to an invite-only call; only they (and the managers) see it."""

    call = models.ForeignKey(IdeaCall, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_call_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="callinvitation_unique"),
        ]


class Idea(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        MERGED = "merged", _("Merged into another idea")
        HIDDEN = "hidden", _("Taken down")

    call = models.ForeignKey(IdeaCall, on_delete=models.CASCADE, related_name="ideas")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ideas"
    )
    title = models.CharField(_("title"), max_length=140)
    description = models.TextField(_("description"), max_length=10000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="ideas")
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    improves = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="improvements"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_ideas"
    )
    tags = models.ManyToManyField(CallTag, blank=True, related_name="ideas")
    score = models.IntegerField(default=0)  # up-votes or points, kept by the services
    voter_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    features = models.BinaryField(default=b"")  # for similar ideas (``similarity.py``)
    indexed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0), name="idea_score_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="idea_merged_has_target",
            ),
        ]
        indexes = [
            models.Index(fields=["call", "status", "-score"]),
            models.Index(fields=["call", "status", "-created_at"]),
            models.Index(fields=["author", "-created_at"]),
            # The similar-ideas signature (count, id sum, last indexed) from the index alone.
            models.Index(
                fields=["call", "status", "indexed_at", "id"], name="idea_similar_sig_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("ideas:idea", kwargs={"pk": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_locked(self) -> bool:
        """The author edits until the first vote or comment; then only adds updates."""
        return self.voter_count > 0 or self.comment_count > 0


class IdeaAuthor(models.Model):
    """Who is credited for an idea: its author and the authors of ideas merged into it."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="credits")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_from = models.ForeignKey(
        Idea, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["idea", "user"], name="ideaauthor_unique"),
        ]


def attachment_path(instance: IdeaAttachment, filename: str) -> str:
    return f"ideas/attachments/{filename}"


class IdeaAttachment(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=10)
    content_type = models.CharField(max_length=60)
    original_name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    file = models.FileField(storage=private_storage, upload_to=attachment_path, max_length=300)
    thumb = models.FileField(
        storage=private_storage, upload_to=attachment_path, max_length=300, blank=True
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


class IdeaUpdate(models.Model):
    """What the author adds once the idea is locked (votes or comments came in)."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("update"), max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Participant(models.Model):
    """A person's points spent in a budget-voting call (locked while they vote)."""

    call = models.ForeignKey(IdeaCall, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    points_spent = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="participant_unique"),
        ]


class Vote(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    call = models.ForeignKey(IdeaCall, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_votes"
    )
    points = models.PositiveSmallIntegerField(default=1)
    # The voter's account was created after the call opened (shown apart; see staff view).
    new_account = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "voter"], name="vote_one_per_person"),
            models.CheckConstraint(condition=Q(points__gte=1), name="vote_points_positive"),
        ]
        indexes = [
            models.Index(fields=["call", "voter"]),
            models.Index(fields=["idea", "created_at"]),
        ]


class Comment(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="idea_comments"
    )
    # Replies hang under a top-level comment (one level deep).
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body = models.TextField(_("comment"), max_length=4000)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["idea", "created_at"])]


class Report(models.Model):
    """Somebody reported an idea or a comment to the staff."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="reports")
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idea", "reporter"],
                condition=Q(comment__isnull=True),
                name="report_idea_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["comment", "reporter"],
                condition=Q(comment__isnull=False),
                name="report_comment_once_per_person",
            ),
        ]


class Follow(models.Model):
    """Follow an idea (comments, stage changes, merges) or a whole call (new ideas)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_follows"
    )
    call = models.ForeignKey(
        IdeaCall, on_delete=models.CASCADE, null=True, blank=True, related_name="follows"
    )
    idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="follows"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(call__isnull=True, idea__isnull=False)
                | Q(call__isnull=False, idea__isnull=True),
                name="follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "idea"], condition=Q(idea__isnull=False), name="follow_idea_once"
            ),
            models.UniqueConstraint(
                fields=["user", "call"], condition=Q(call__isnull=False), name="follow_call_once"
            ),
        ]


class StageChange(models.Model):
    """One move of an idea between stages, with the public reason."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), max_length=2000)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class RewardPayment(models.Model):
    """One payment of an idea's reward to one credited author (one journal entry)."""

    call = models.ForeignKey(IdeaCall, on_delete=models.PROTECT, related_name="payments")
    idea = models.ForeignKey(Idea, on_delete=models.PROTECT, related_name="payments")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="idea_payments"
    )
    gross = models.BigIntegerField()
    crowd_fee = models.BigIntegerField()
    client_fee = models.BigIntegerField()
    net = models.BigIntegerField()
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["idea", "recipient"], name="rewardpayment_once"),
            models.CheckConstraint(
                condition=Q(gross__gt=0, crowd_fee__gte=0, client_fee__gte=0),
                name="rewardpayment_amounts_valid",
            ),
        ]


class RewardedIdea(models.Model):
    """The idea was rewarded: one row per idea (the once-only rule)."""

    call = models.ForeignKey(IdeaCall, on_delete=models.PROTECT, related_name="rewarded")
    idea = models.OneToOneField(Idea, on_delete=models.PROTECT, related_name="reward")
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
