"""Notifications people get, and how they want them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", _("Email at once")
    DIGEST = "digest", _("Daily summary")
    OFF = "off", _("Only on the site")


class Notification(models.Model):
    """One thing that happened and concerns one person: shown in their notification centre,
    and emailed per their preference for its kind.

    ``uid`` identifies the notice across retries of the task that made it (a queue may run
    a task twice): one row per person and notice. ``titles`` holds the one-line title in
    every language the site speaks, rendered when the notice was made, so a list of notices
    renders without loading what each refers to."""

    class Email(models.TextChoices):
        NONE = "none", _("Not emailed")
        SENT = "sent", _("Emailed")
        DIGEST = "digest", _("Waiting for the daily summary")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    uid = models.CharField(max_length=40)
    kind = models.CharField(max_length=60)
    context = models.JSONField(default=dict, blank=True)
    path = models.CharField(max_length=300, blank=True)
    titles = models.JSONField(default=dict, blank=True)
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.NONE)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "uid"], name="notification_user_uid_unique")
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_idx"),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(email="digest"),
                name="notification_digest_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id}"

    def title(self, language: str) -> str:
        return str(self.titles.get(language) or next(iter(self.titles.values()), self.kind))


class NotificationSetting(models.Model):
    """A person's choice for one kind of notice; without a row, the kind's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    kind = models.CharField(max_length=60)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_setting_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.delivery} for user {self.user_id}"
