"""Notifications people get, and how they want them."""

from __future__ import annotations

from typing import Any

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


def _private_storage() -> Any:
    from django.core.files.storage import storages

    return storages["private"]


class Thread(models.Model):
    """A conversation tied to one piece of work (see ``community.threads``).

    ``message_count`` and ``last_message_at`` are kept on the row by the service that adds a
    message, so the list of someone's threads with unread counts is one indexed query."""

    subject = models.CharField(max_length=30)
    subject_id = models.PositiveBigIntegerField()
    key = models.CharField(max_length=40, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "subject_id", "key"], name="thread_subject_unique"
            )
        ]

    def __str__(self) -> str:
        return f"thread {self.subject}:{self.subject_id}:{self.key}"


class ThreadMember(models.Model):
    """A person in a thread and how far they have read (``read_count`` messages): unread =
    the thread's ``message_count`` minus it; another member has seen message n when their
    ``read_count`` ≥ n (read receipts)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="thread_memberships"
    )
    read_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="thread_member_unique")
        ]
        indexes = [
            # A person's threads, most recent activity first (the inbox).
            models.Index(fields=["user", "-last_message_at"], name="thread_member_inbox_idx")
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} in thread {self.thread_id}"


class Message(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("Visible")
        HELD = "held", _("Held for review")
        HIDDEN = "hidden", _("Hidden")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages"
    )
    body = models.TextField(max_length=5000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VISIBLE)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["thread_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["thread", "number"], name="message_number_unique")
        ]

    def __str__(self) -> str:
        return f"message {self.number} of thread {self.thread_id}"


class MessageAttachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=_private_storage, upload_to="messages/%Y/%m/", max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.name
