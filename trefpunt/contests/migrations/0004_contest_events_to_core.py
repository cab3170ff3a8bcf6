# The contest trail moves to core.Event (subject "contest"), the one trail every mode writes:
# every ContestEvent row is copied with its time, actor, idempotency key and data, then the
# table goes. Reversible: going back copies the contest events into ContestEvent again.

from django.conf import settings
from django.db import migrations

BATCH = 1000


def _copy(target, rows, build):
    """Copy ``rows`` in batches, keeping each row's ``created_at`` (``auto_now_add`` would
    stamp the copy with today)."""
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append((build(row), row.created_at))
        if len(batch) == BATCH:
            _flush(target, batch)
            batch = []
    if batch:
        _flush(target, batch)


def _flush(target, batch):
    created = target.objects.bulk_create([obj for obj, _when in batch])
    for obj, (_same, when) in zip(created, batch, strict=True):
        obj.created_at = when
    target.objects.bulk_update(created, ["created_at"])


def forwards(apps, schema_editor):
    ContestEvent = apps.get_model("contests", "ContestEvent")
    Event = apps.get_model("core", "Event")
    _copy(
        Event,
        ContestEvent.objects.order_by("pk"),
        lambda row: Event(
            subject="contest",
            subject_id=row.contest_id,
            kind=row.kind,
            actor_id=row.actor_id,
            idempotency_key=row.idempotency_key,
            data=row.data,
        ),
    )


def backwards(apps, schema_editor):
    ContestEvent = apps.get_model("contests", "ContestEvent")
    Event = apps.get_model("core", "Event")
    _copy(
        ContestEvent,
        Event.objects.filter(subject="contest").order_by("pk"),
        lambda row: ContestEvent(
            contest_id=row.subject_id,
            kind=row.kind[:30],
            actor_id=row.actor_id,
            idempotency_key=row.idempotency_key,
            data=row.data,
        ),
    )
    Event.objects.filter(subject="contest").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("contests", "0003_decline_code_labels"),
        ("core", "0002_event"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="ContestEvent"),
    ]
