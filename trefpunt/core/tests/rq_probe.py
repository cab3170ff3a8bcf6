"""A task for the RQ test (``test_production``): it needs no database, only a worker."""

from __future__ import annotations

from django_tasks import task


@task()
def rq_probe_task(number: int) -> int:
    return number * 2
