"""Background work of projects. Tasks take ids and are harmless to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from trefpunt.core.scheduling import periodic


@periodic
@task()
def projects_sweep_task() -> dict[str, Any]:
    """Reminders and auto-approval of unanswered deliveries; disputes past their first step
    go to staff."""
    from .services import disputes_sweep, milestones_sweep

    result: dict[str, Any] = dict(milestones_sweep())
    result["disputes_to_staff"] = disputes_sweep()
    return result
