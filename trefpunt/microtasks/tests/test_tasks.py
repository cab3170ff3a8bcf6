"""The periodic sweeps are registered with the scheduler and are harmless to repeat."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.scheduling import periodic_discover
from trefpunt.microtasks.models import Lease
from trefpunt.microtasks.tasks import batches_fair_pay_task, batches_settle_task, leases_expire_task
from trefpunt.microtasks.tests.factories import claim, published_batch

pytestmark = pytest.mark.django_db


def test_periodic_discover_registers_the_microtask_sweeps():
    names = set(periodic_discover())
    assert {
        "trefpunt.microtasks.tasks.answers_auto_approve_task",
        "trefpunt.microtasks.tasks.appeals_auto_overturn_task",
        "trefpunt.microtasks.tasks.batches_settle_task",
        "trefpunt.microtasks.tasks.batches_fair_pay_task",
        "trefpunt.microtasks.tasks.leases_expire_task",
    } <= names


def test_sweeps_run_twice_change_nothing_the_second_time():
    batch = published_batch(items=2)
    worker = UserFactory.create()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        claim(batch, worker)
        clock.shift(timedelta(minutes=11))
        assert leases_expire_task.call() == 1
        assert leases_expire_task.call() == 0
    assert Lease.objects.get().status == Lease.Status.EXPIRED
    assert batches_settle_task.call() == 0  # the batch is open: nothing to refund
    assert batches_fair_pay_task.call() == 0
