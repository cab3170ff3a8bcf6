"""Background work of idea calls. Tasks take ids and are harmless to run twice."""

from __future__ import annotations

from django_tasks import task

from trefpunt.core.scheduling import periodic


@periodic
@task()
def ideas_sweep_task() -> list[int]:
    """Calls whose submission deadline passed move to voting."""
    from .services import calls_sweep

    return calls_sweep()
