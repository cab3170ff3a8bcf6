"""A GIN full-text index over the public contests' title and summary, for the list's text
filter (``selectors._text_filter``'s ``SearchVector`` compiles to the same expression, so the
planner uses it).
PostgreSQL only: on SQLite the filter matches words with ``LIKE`` and this migration does
nothing."""

from django.db import migrations

TEXT_VECTOR = (
    "to_tsvector('simple'::regconfig, COALESCE(title, '') || ' ' || COALESCE(summary, ''))"
)


def index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS contest_public_text ON contests_contest"
            f" USING gin ({TEXT_VECTOR}) WHERE NOT is_private"
        )


def index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS contest_public_text")


class Migration(migrations.Migration):
    dependencies = [
        ("contests", "0007_merge_0006_entry_hidden_at_0006_merge_list_order_nda"),
    ]

    operations = [migrations.RunPython(index_create, index_drop)]
