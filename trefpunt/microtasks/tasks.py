"""Time-driven rules of the microtask mode, run by the periodic scheduler.

Each task is idempotent and guards every transition with a conditional update or a
lock, so an extra or concurrent run is harmless. Correctness never waits for them:
an expired lease frees its item by query; these only move time-based states on.
"""

from __future__ import annotations

from django_tasks import task

from trefpunt.core.scheduling import periodic

from . import services


@periodic
@task()
def answers_auto_approve_task() -> int:
    """Answers not reviewed within the review period (3 days) are approved and paid."""
    return services.answers_auto_approve()


@periodic
@task()
def appeals_auto_overturn_task() -> int:
    """Appeals nobody decided within the appeal period are decided for the worker."""
    return services.appeals_auto_overturn()


@periodic
@task()
def batches_settle_task() -> int:
    """Closed batches refund what their escrow no longer owes."""
    return services.batches_settle()


@periodic
@task()
def batches_finish_task() -> int:
    """Open batches with nothing left to answer for a day close, refunding the escrow."""
    return services.batches_finish_sweep()


@periodic
@task()
def batches_fair_pay_task() -> int:
    """Open batches paying below the minimum hourly rate are paused."""
    return services.batches_fair_pay_sweep()


@periodic
@task()
def leases_expire_task() -> int:
    """Tidy-up: mark leases whose time ran out."""
    return services.leases_expire()


@task()
def batch_aggregate_task(batch_id: int) -> bool:
    """The full fit of one batch (enqueued every N answers, on exclusions and at close)."""
    return services.batch_aggregate(batch_id=batch_id)


@periodic
@task()
def batches_aggregate_task() -> int:
    """Safety sweep: fit every batch with answers newer than its last fit."""
    return services.batches_aggregate_sweep()
