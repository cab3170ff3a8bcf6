from typing import Any

from django.conf import settings
from django.db import models


def record_name(record: models.Model, *parts: Any) -> str:
    """How a record reads in the admin, in the reader's language: "melding 3 · …",
    "storting 5 · € 12,50"."""
    return " · ".join([f"{record._meta.verbose_name} {record.pk}", *map(str, parts)])


class IdempotencyRecord(models.Model):
    """The stored answer to an API request sent with an ``Idempotency-Key``.

    The unique constraint on (owner, key) is what makes a repeated request
    return the first answer instead of running again.
    """

    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique"),
        ]


class Event(models.Model):
    """The trail of one piece of work (a contest, a batch, an idea call, a project): every
    state move and money verb, who did it and with what. Append-only. It is also the
    service-level idempotency record: a money verb repeated with the same key finds its
    event and returns the first result. ``subject`` is the mode's name for the thing
    (``contest``, ``batch``, …) and ``subject_id`` its primary key."""

    subject = models.CharField(max_length=30)
    subject_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["subject", "subject_id", "id"], name="event_subject_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "subject_id", "kind", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="event_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject}:{self.subject_id} {self.kind}"
