from __future__ import annotations

from django_tasks import task

from trefpunt.core.scheduling import periodic


@periodic
@task()
def suspensions_expire_task() -> int:
    """Give back the accounts whose suspension has ended."""
    from .services import suspensions_expire

    return suspensions_expire()
