"""Background work of the webhooks. Tasks take ids; running one twice is harmless."""

from __future__ import annotations

from django_tasks import task

from trefpunt.core.scheduling import periodic


@task()
def webhook_deliver_task(*, delivery_id: int) -> bool:
    """One attempt of one delivery (nothing when it is not due or already being sent)."""
    from .services import delivery_attempt

    return delivery_attempt(delivery_id=delivery_id)


@task()
def webhooks_deliver_task(*, delivery_ids: list[int]) -> int:
    """The attempts of many deliveries, one after the other (a burst, such as a fit that
    completed many items at once); returns how many were accepted."""
    from .services import delivery_attempt

    return sum(delivery_attempt(delivery_id=pk) for pk in delivery_ids)


@periodic
@task()
def webhooks_retry_task() -> int:
    """Queue the retries that are due."""
    from .services import webhooks_retry

    return webhooks_retry()
