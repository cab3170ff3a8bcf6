from django.db import models


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
