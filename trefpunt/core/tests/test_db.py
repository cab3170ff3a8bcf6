"""``core.db.model_from_row``: the instance ``Model.from_db`` would make, built faster."""

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from trefpunt.core.db import model_fields, model_from_row, prepared_cursor
from trefpunt.microtasks.models import Batch, Item, Lease
from trefpunt.microtasks.tests.factories import claim, published_batch

pytestmark = pytest.mark.django_db


def _row(model, fields):
    """The first row of the model's table, as a hand-written statement reads it."""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id LIMIT 1")  # noqa: S608
        return cursor.fetchone()


def _fields(instance, fields):
    return {f.attname: getattr(instance, f.attname) for f in fields}


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="hand-written rows are PostgreSQL's (SQLite's driver gives naive datetimes)",
)
@pytest.mark.parametrize(
    ("model", "deferred"),
    [(Batch, ("quality_model", "instructions")), (Item, ("data",)), (Lease, ())],
)
def test_an_instance_from_a_row_is_the_one_the_orm_loads(model, deferred):
    lease = claim(published_batch(items=2), published_batch().owner)
    assert lease.pk
    fields = model_fields(model, deferred)
    made = model_from_row(model, fields, _row(model, fields))
    loaded = model.objects.only(*[f.name for f in fields]).order_by("id").first()
    assert type(made) is model
    assert _fields(made, fields) == _fields(loaded, fields)
    assert made.get_deferred_fields() == loaded.get_deferred_fields() == set(deferred)
    assert (made._state.adding, made._state.db) == (False, "default")
    # A deferred field loads on first use, and a foreign key's object follows its id.
    for name in deferred:
        assert getattr(made, name) == getattr(loaded, name)
    if model is Lease:
        assert made.batch == loaded.batch
        made.status = Lease.Status.SKIPPED
        made.save(update_fields=["status"])
        assert Lease.objects.get(pk=made.pk).status == Lease.Status.SKIPPED


def test_a_model_with_an_init_listener_goes_through_its_constructor():
    published_batch(items=1)
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    fields = model_fields(Item, ("data", "gold_answer"))
    model_from_row(Item, fields, _row(Item, fields))
    assert seen == []
    post_init.connect(listener, sender=Item)
    try:
        made = model_from_row(Item, fields, _row(Item, fields))
    finally:
        post_init.disconnect(listener, sender=Item)
    assert seen == [made]
    # A receiver connected after the fields were first built is not skipped either.
    post_init.connect(listener, sender=Item)
    try:
        again = model_from_row(Item, fields, _row(Item, fields))
    finally:
        post_init.disconnect(listener, sender=Item)
    assert seen == [made, again]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_prepared_cursor_statement_is_prepared_on_the_server_once():
    """Django turns psycopg's prepared statements off; the setting turns them back on, or
    ``prepare=True`` is ignored and the statement is planned again on every run. The
    query log (the query-count tests) still shows each run's statement."""
    sql = "SELECT count(*) FROM microtasks_batch WHERE id > %s"
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            with prepared_cursor() as cursor:
                cursor.execute(sql, [0])
    assert [q["sql"] for q in captured.captured_queries] == [sql] * 3
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement = %s",
            ["SELECT count(*) FROM microtasks_batch WHERE id > $1"],
        )
        assert cursor.fetchall() == [(3,)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_statement_that_keeps_no_plan_is_never_prepared():
    # Not even on its fifth run, when psycopg would prepare it by itself.
    sql = "SELECT count(*) FROM microtasks_item WHERE id > %s"
    for _ in range(6):
        with prepared_cursor(keep_plan=False) as cursor:
            cursor.execute(sql, [0])
            assert cursor.fetchone() == (0,)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%microtasks_item WHERE id > $1%"],
        )
        assert cursor.fetchone() == (0,)
