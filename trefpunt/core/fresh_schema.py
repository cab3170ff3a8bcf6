"""An empty SQLite database's schema in one step, for ``make run``'s first start.

``migrate`` on an empty database replays every migration of every app: it renders the
project state after each operation and rebuilds SQLite tables for altered fields. On a
first run that cost seconds of a newcomer's wait. An empty database needs none of that
history: this module creates every table from the current models, adds what migrations
create beyond the models (the search index's full-text tables), records every migration as
applied and sends ``post_migrate`` like ``migrate`` does. The result is the same schema as
migrating (``core/tests/test_fresh_schema.py`` compares tables, columns, indexes, foreign
keys and rows), so later ``migrate`` runs apply only newer migrations.

Only for an empty SQLite database; anything else goes through ``migrate``.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


def is_empty_sqlite(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """True for a SQLite database without a single table (a first run)."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def create(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Create the current schema in the empty database ``alias`` and mark every migration
    applied, in one transaction."""
    from trefpunt.discovery.backends import install as search_install

    connection = connections[alias]
    models = [
        model
        for model in apps.get_models()  # create_model adds the many-to-many tables
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    # The schema editor disables SQLite's foreign key checks and opens one transaction;
    # SQLite checks foreign keys when rows are written, not when tables are created, so the
    # order of the models does not matter.
    with connection.schema_editor(atomic=True) as editor:
        for model in models:
            editor.create_model(model)
        search_install(editor, forward=True)
        recorder = MigrationRecorder(connection)
        recorder.ensure_schema()
        recorder.migration_qs.bulk_create(
            recorder.Migration(app=app, name=name) for app, name in sorted(loader.disk_migrations)
        )
    emit_post_migrate_signal(0, False, alias)


def migrate_or_create(alias: str = DEFAULT_DB_ALIAS) -> None:
    """What ``make run`` does before serving: an empty SQLite database gets the schema in one
    step, any other database is migrated."""
    if is_empty_sqlite(alias):
        create(alias)
    else:
        call_command("migrate", interactive=False, verbosity=0, database=alias)
