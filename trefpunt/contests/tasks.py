"""Background work of contests. Tasks take ids and are harmless to run twice."""

from __future__ import annotations

from django_tasks import task

from trefpunt.core.exceptions import ApplicationError
from trefpunt.core.scheduling import periodic


@periodic
@task()
def contests_sweep_task() -> dict[str, list[int]]:
    """Deadlines → judging, judging ends → guarantee, handovers → auto-confirm."""
    from .services import contests_sweep

    return contests_sweep().as_dict()


@task()
def entry_portfolio_task(entry_id: int) -> bool:
    """Add a winning entry to its creator's portfolio (idempotent by ``source_ref``)."""
    from .services import entry_portfolio_add

    try:
        entry_portfolio_add(entry_id=entry_id)
    except ApplicationError:
        return False
    return True
