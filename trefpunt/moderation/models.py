"""Reports, moderation decisions on content, sanctions on people, and the audit log.

- ``Report``: someone (or the platform itself, e.g. a message held by the spam rules)
  points staff at a thing with a reason. Staff work them in one queue.
- ``Decision``: staff hid or took down one thing; its author is told why and may appeal
  once; staff decide the appeal.
- ``Sanction``: a warning, a suspension (login refused until lifted or ended) or a ban.
- ``AuditEntry``: every staff action, append-only (who, what, why, before and after).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from trefpunt.core.models import record_name


class Reason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    ABUSE = "abuse", _("Harassment, hate or threats")
    ILLEGAL = "illegal", _("Illegal content")
    COPYRIGHT = "copyright", _("Copied work or infringes rights")
    PRIVACY = "privacy", _("Shares someone's personal data")
    SCAM = "scam", _("Fraud or a scam")
    OTHER = "other", _("Something else")
    # Raised by the platform itself, never chosen in the form.
    HELD = "held", _("Held automatically")


class Report(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(_("kind"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("object id"))
    # Whose content it is (kept at report time, for the queue's filters and sanctions).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_against",
        verbose_name=_("author"),
    )
    # Empty: raised by the platform (a held message).
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_made",
        verbose_name=_("reported by"),
    )
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    details = models.TextField(_("details"), max_length=1000, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.CharField(_("resolution"), max_length=20, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "reporter"],
                condition=Q(status="open", reporter__isnull=False),
                name="report_open_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["kind", "object_id"],
                condition=Q(status="open", reporter__isnull=True),
                name="report_open_once_by_platform",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind", "created_at"])]

    def __str__(self) -> str:
        return record_name(self, f"{self.kind}:{self.object_id}")


class Decision(models.Model):
    """Staff hid (or took down) one thing. ``active``: it is hidden now. The author may
    appeal once; an overturned decision shows the thing again."""

    class Action(models.TextChoices):
        HIDE = "hide", _("Hidden")
        TAKE_DOWN = "take_down", _("Taken down")

    class Appeal(models.TextChoices):
        NONE = "", _("No appeal")
        PENDING = "pending", _("Appeal waiting for staff")
        UPHELD = "upheld", _("Appeal rejected: the decision stands")
        OVERTURNED = "overturned", _("Appeal accepted: the decision was reversed")

    kind = models.CharField(_("kind"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("object id"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_decisions",
        verbose_name=_("author"),
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.TextField(_("reason"), max_length=1000)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    active = models.BooleanField(_("active"), default=True)
    appeal = models.CharField(
        _("appeal"), max_length=10, choices=Appeal.choices, blank=True, default=""
    )
    appeal_text = models.TextField(_("appeal text"), max_length=2000, blank=True)
    appealed_at = models.DateTimeField(_("appealed at"), null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("appeal decided by"),
    )
    appeal_decided_at = models.DateTimeField(_("appeal decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id"],
                condition=Q(active=True),
                name="decision_active_once",
            ),
        ]
        indexes = [models.Index(fields=["kind", "active"])]

    def __str__(self) -> str:
        return record_name(self, self.get_action_display(), f"{self.kind}:{self.object_id}")


class Sanction(models.Model):
    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        SUSPENSION = "suspension", _("Suspension")
        BAN = "ban", _("Ban")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sanctions",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("reason"), max_length=1000)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A suspension may end by itself; a ban does not.
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    # [[kind, id], …]: the public things hidden while it lasts (shown again when lifted).
    hidden = models.JSONField(_("hidden while it lasts"), default=list, blank=True)

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(kind__in=["suspension", "ban"], lifted_at__isnull=True),
                name="sanction_one_active_lock",
            ),
        ]

    def __str__(self) -> str:
        return record_name(self, self.get_kind_display(), f"{gettext('user')} {self.user_id}")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")


class AuditEntry(models.Model):
    """One staff action: who, what (the action and its target), why, before and after.
    Append-only: rows are never changed or deleted (the queryset and the row refuse)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    action = models.CharField(_("action"), max_length=30)
    target_kind = models.CharField(_("kind"), max_length=40)
    target_id = models.PositiveBigIntegerField(_("object id"))
    target_label = models.CharField(_("object name"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_kind", "target_id"]),
            models.Index(fields=["action", "-created_at"]),
        ]

    def __str__(self) -> str:
        return record_name(self, self.action, f"{self.target_kind}:{self.target_id}")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")
