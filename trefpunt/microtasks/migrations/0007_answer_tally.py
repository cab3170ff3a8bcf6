"""The batch's answer counter moves from one column on the batch row to ``AnswerTally``
rows (shards), so concurrent answers of a batch do not queue on one row; the count so far
becomes shard 0."""

import django.db.models.deletion
from django.db import migrations, models


def tally_from_batches(apps, schema_editor):
    Batch = apps.get_model("microtasks", "Batch")
    AnswerTally = apps.get_model("microtasks", "AnswerTally")
    AnswerTally.objects.bulk_create(
        [
            AnswerTally(batch_id=pk, shard=0, answers=received)
            for pk, received in Batch.objects.filter(answers_received__gt=0).values_list(
                "pk", "answers_received"
            )
        ],
        batch_size=1000,
    )


def batches_from_tally(apps, schema_editor):
    Batch = apps.get_model("microtasks", "Batch")
    AnswerTally = apps.get_model("microtasks", "AnswerTally")
    totals: dict[int, int] = {}
    for batch_id, answers in AnswerTally.objects.values_list("batch_id", "answers"):
        totals[batch_id] = totals.get(batch_id, 0) + answers
    for batch_id, received in totals.items():
        Batch.objects.filter(pk=batch_id).update(answers_received=received)


class Migration(migrations.Migration):
    dependencies = [
        ("microtasks", "0006_merge_qualification"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnswerTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("shard", models.PositiveSmallIntegerField()),
                ("answers", models.PositiveIntegerField(default=0)),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tallies",
                        to="microtasks.batch",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("batch", "shard"), name="answer_tally_unique")
                ],
            },
        ),
        migrations.RunPython(tally_from_batches, batches_from_tally),
        migrations.RemoveField(
            model_name="batch",
            name="answers_received",
        ),
    ]
