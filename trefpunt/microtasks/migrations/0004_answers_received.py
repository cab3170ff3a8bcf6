from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_answers(apps, schema_editor):
    Batch = apps.get_model("microtasks", "Batch")
    Answer = apps.get_model("microtasks", "Answer")
    def counted(answers):
        return answers.order_by().values("batch").annotate(n=Count("pk")).values("n")

    mine = Answer.objects.filter(batch=OuterRef("pk"))
    seen = mine.filter(pk__lte=OuterRef("fit_through"))
    Batch.objects.update(
        answers_received=Coalesce(Subquery(counted(mine)), 0),
        fit_received=Coalesce(Subquery(counted(seen)), 0),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("microtasks", "0003_fit_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="batch",
            name="answers_received",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="batch",
            name="fit_received",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(count_answers, migrations.RunPython.noop),
    ]
