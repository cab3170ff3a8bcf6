"""Issue 5's acceptance story in a real browser: simulated workers (one answering at random)
work through a batch with test questions; the client sees the random worker flagged on the
worker table, clicks Exclude, closes the batch and reads the combined answers with their
confidence on the results page and in the export."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.testing import log_in
from trefpunt.microtasks.models import BatchWorker
from trefpunt.microtasks.selectors import worker_pseudonym
from trefpunt.microtasks.services import REFIT_QUIET
from trefpunt.microtasks.tasks import batches_aggregate_task
from trefpunt.microtasks.tests.crowd import SimWorker, accurate, at_random, crowd_batch, work

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_client_excludes_the_flagged_random_worker_in_the_browser(page: Page) -> None:
    random.seed(11)
    crowd = crowd_batch(items=120, gold=20, seed=11, min_answers=3, max_answers=5, gold_rate=0.2)
    batch = crowd.batch
    rng = random.Random(11)
    good = [SimWorker(UserFactory.create(), accurate(crowd.truth, 0.85, rng)) for _ in range(5)]
    spammer = SimWorker(UserFactory.create(), at_random(rng))
    # Real transactions: every fit enqueued on commit runs (immediate task backend).
    work(batch, [*good, spammer])
    with time_machine.travel(timezone.now() + REFIT_QUIET + timedelta(seconds=1)):
        assert batches_aggregate_task.call() == 1
    spammer_id = worker_pseudonym(batch_id=batch.pk, user_id=spammer.user.pk)

    log_in(page, crowd.owner)
    page.goto(f"/en/microtasks/manage/{batch.pk}/workers/")
    rows = page.locator("table tbody tr")
    expect(rows.first).to_contain_text(spammer_id)
    expect(rows.first).to_contain_text("likely spammer")
    expect(page.locator("table .badge", has_text="likely spammer")).to_have_count(1)
    rows.first.get_by_role("button", name="Exclude").click()
    expect(page.get_by_text(f"{spammer_id} gets no more items of this batch")).to_be_visible()
    expect(page.locator(f"#worker-{spammer_id}")).to_contain_text("excluded")
    assert BatchWorker.objects.get(batch=batch, worker=spammer.user).excluded

    # The others finish what the exclusion reopened; then the client closes the batch.
    work(batch, good)
    page.goto(f"/en/microtasks/manage/{batch.pk}/")
    page.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Close the batch").click()
    expect(page.get_by_text("Closed.")).to_be_visible()

    page.goto(f"/en/microtasks/manage/{batch.pk}/results/")
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    table_rows = page.locator("table.mt-results tbody tr")
    expect(table_rows).to_have_count(25)
    confidences = [
        float(text.replace("\u00a0%", "").strip())
        for text in page.locator(".mt-confidence").all_inner_texts()
    ]
    assert confidences == sorted(confidences)
    first = table_rows.first
    first.locator("summary").click()
    expect(first.locator(".mt-raw li").first).to_be_visible()
    expect(page.locator(".mt-raw li.is-excluded").first).to_contain_text("excluded, not counted")
    page.get_by_role("link", name=re.compile("Next")).click()
    expect(page.locator("table.mt-results tbody tr")).to_have_count(25)

    response = page.request.get(f"/en/microtasks/manage/{batch.pk}/export.csv")
    assert response.ok
    table = list(csv.DictReader(io.StringIO(response.text())))
    by_item = {r["item_id"]: r for r in table}
    assert len(by_item) == 120
    assert all(float(r["confidence"]) > 0 for r in by_item.values())
    plain = [r for r in by_item.values() if r["is_gold"] == "false"]
    right = sum(r["aggregated.sentiment"] == crowd.truth[int(r["position"])] for r in plain)
    assert right / len(plain) >= 0.93
    assert {r["counted"] for r in table if r["worker"] == spammer_id} == {"false"}
