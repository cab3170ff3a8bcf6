"""Periodic sweeps: time-driven transitions (deadlines, judging ends, auto-approvals).

Apps decorate a task in their ``tasks.py`` with ``@periodic``. The scheduler
process (``trefpunt scheduler``, started by ``make run``; in production one per
deployment, or ``trefpunt sweep`` from cron) enqueues every periodic task each
interval. Sweeps must be idempotent and guard every transition with a
conditional update, so an extra or concurrent run is harmless; this is also why
no in-memory state or single-process assumption is needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps

PERIODIC: dict[str, Any] = {}


def periodic(task: Any) -> Any:
    """Register a django-tasks ``Task`` (taking no arguments) to run every interval."""
    PERIODIC[f"{task.module_path}"] = task
    return task


def periodic_discover() -> dict[str, Any]:
    for config in apps.get_app_configs():
        if config.name.startswith("trefpunt."):
            try:
                import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.tasks":
                    raise
    return PERIODIC


def periodic_enqueue_all() -> list[str]:
    """Enqueue every registered sweep once; returns their names."""
    tasks = periodic_discover()
    for task in tasks.values():
        task.enqueue()
    return sorted(tasks)
