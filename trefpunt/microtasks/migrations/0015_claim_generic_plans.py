"""The claim functions (0011) plan their statements once per session, not on every call.

PL/pgSQL keeps a plan for each statement of a function, and under PostgreSQL's default
``plan_cache_mode`` (``auto``) uses a plan made for the call's values ("custom") whenever
the reusable ("generic") plan is estimated to cost more — which, with the ``LIMIT`` and the
excluded ids as parameters, was every call: the pick and the guarded insert were planned
anew for every claim. The generic plans use the same partial indexes (``item_open_depth``,
``item_open_breadth``, ``item_open_gold``; ``EXPLAIN EXECUTE`` of the pick with
``force_generic_plan``), so the functions now always take them. Measured (session of
2026-12-06e, ``bench/README.md``): the backend's CPU per claim → answer cycle 3.3–3.6 →
2.5–2.6 ms.

A migration that replaces a function with ``CREATE OR REPLACE`` replaces this setting too:
it must say it again.
"""

from django.db import migrations

FUNCTIONS = (
    "microtasks_claim(bigint, bigint, timestamptz, timestamptz, integer, integer, boolean)",
    "microtasks_claim_pick(bigint, bigint, timestamptz, boolean, boolean, integer, bigint[])",
)


def generic(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for function in FUNCTIONS:
            schema_editor.execute(
                f"ALTER FUNCTION {function} SET plan_cache_mode = force_generic_plan"
            )


def default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for function in FUNCTIONS:
            schema_editor.execute(f"ALTER FUNCTION {function} RESET plan_cache_mode")


class Migration(migrations.Migration):
    dependencies = [
        ("microtasks", "0014_answer_reviewer_indexes_partial"),
    ]

    operations = [migrations.RunPython(generic, default, elidable=False)]
