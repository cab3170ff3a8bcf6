"""The acceptance story of issue 5, in the platform: a batch with test questions where one
simulated worker answers at random and the others mostly right. The random worker is
flagged, the client excludes them, and the results page, the API and the export show the
combined answers with their confidence — right on the items that are not tests."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.microtasks.models import Answer, BatchWorker, Item
from trefpunt.microtasks.selectors import worker_pseudonym
from trefpunt.microtasks.selectors.reliability import batch_reliability
from trefpunt.microtasks.services import REFIT_QUIET
from trefpunt.microtasks.tasks import batches_aggregate_task
from trefpunt.microtasks.tests.crowd import SimWorker, accurate, at_random, crowd_batch, work
from trefpunt.microtasks.tests.money import assert_escrow_adds_up

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def api(user):
    _token, raw = api_token_create(user=user, name="script")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def url(name, *args):
    return reverse(f"microtasks:{name}", args=args)


def export_jsonl(client, batch):
    response = client.get(url("export", batch.pk, "jsonl"))
    return [json.loads(x) for x in b"".join(response.streaming_content).decode().splitlines()]


def test_random_worker_is_flagged_excluded_and_results_show_combined_answers(
    django_capture_on_commit_callbacks,
):
    random.seed(11)  # the claim's mixing of test questions draws from it
    crowd = crowd_batch(items=120, gold=20, seed=11, min_answers=3, max_answers=5, gold_rate=0.2)
    batch = crowd.batch
    rng = random.Random(11)
    good = [SimWorker(UserFactory.create(), accurate(crowd.truth, 0.85, rng)) for _ in range(5)]
    spammer = SimWorker(UserFactory.create(), at_random(rng))
    # Every answer runs what it enqueues on commit: the background fits happen on the way.
    run_tasks = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731
    work(batch, [*good, spammer], each=run_tasks)
    assert spammer.answered >= 40
    # Once the batch is quiet, the periodic sweep fits what arrived since the last fit.
    with time_machine.travel(timezone.now() + REFIT_QUIET + timedelta(seconds=1)):
        assert batches_aggregate_task.call() == 1

    # --- the worker table flags the random worker, and only them -------------------------
    client = logged_in(crowd.owner)
    page = client.get(url("workers", batch.pk))
    rows = {w["pseudonym"]: w for w in page.context["workers"]}
    flagged = {p for p, w in rows.items() if w["flagged_spammer"]}
    spammer_id = worker_pseudonym(batch_id=batch.pk, user_id=spammer.user.pk)
    assert flagged == {spammer_id}
    assert page.context["workers"][0]["pseudonym"] == spammer_id  # flagged first
    assert (
        rows[spammer_id]["skill"]
        < 0.5
        < min(w["skill"] for p, w in rows.items() if p != spammer_id)
    )
    assert "likely spammer" in page.content.decode()

    # --- the client excludes them: their answers leave the combined answers ----------------
    with run_tasks():
        response = client.post(
            url("worker_exclude", batch.pk), {"worker": spammer_id, "excluded": "1"}
        )
    assert response.status_code == 302
    assert BatchWorker.objects.get(batch=batch, worker=spammer.user).excluded
    touched = Item.objects.filter(pk__in=spammer.items)
    assert all(
        (item.aggregate_details or {})["answers"] == item.answers_count - 1 for item in touched
    )
    reopened = touched.filter(status="open").count()
    # The others finish what the exclusion reopened; the random worker gets nothing more.
    work(batch, [*good, spammer], each=run_tasks)
    assert spammer.stopped
    assert reopened == 0 or Item.objects.filter(batch=batch, status="open").count() == 0
    with run_tasks():
        assert client.post(url("close", batch.pk)).status_code == 302

    # --- the results page: combined answers with confidence, least certain first ------------
    page = client.get(url("results", batch.pk))
    assert page.status_code == 200
    shown = [row["item"].confidence for row in page.context["rows"]]
    assert shown == sorted(shown)
    first = page.context["rows"][0]
    assert first["aggregated"] and first["agreement"] is not None
    html = page.content.decode()
    # One decimal, cut rather than rounded (never shown above what it is, near the target).
    assert f"{math.floor(first['item'].confidence * 1000) / 10:.1f}" in html
    assert "excluded, not counted" in html or not any(
        a["excluded"] for row in page.context["rows"] for a in row["answers"]
    )

    # --- the export carries the combined answer and confidence; right on the non-tests -----
    lines = export_jsonl(client, batch)
    assert len(lines) == 120
    assert all(line["aggregated_answer"] and line["confidence"] > 0 for line in lines)
    plain = [line for line in lines if not line["is_gold"]]
    right = sum(
        line["aggregated_answer"]["sentiment"] == crowd.truth[line["position"]] for line in plain
    )
    assert right / len(plain) >= 0.93
    response = client.get(url("export", batch.pk, "csv"))
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert all(
        r["confidence"] and r["aggregated.sentiment"] in ("pos", "neg", "neu") for r in table
    )
    assert len(table) == Answer.objects.filter(batch=batch).count()

    # --- the API says the same ---------------------------------------------------------------
    token_client = api(crowd.owner)
    results = token_client.get(f"/api/v1/batches/{batch.pk}/results?page_size=200").json()
    assert results["count"] == 120
    assert [r["confidence"] for r in results["items"]] == sorted(
        r["confidence"] for r in results["items"]
    )
    workers = token_client.get(f"/api/v1/batches/{batch.pk}/workers").json()
    assert (workers[0]["worker"], workers[0]["flagged_spammer"], workers[0]["excluded"]) == (
        spammer_id,
        True,
        True,
    )
    assert_escrow_adds_up(batch)


def test_results_and_workers_pages_query_count_does_not_grow(django_assert_max_num_queries):
    crowd = crowd_batch(items=30, gold=5, min_answers=2, max_answers=2, gold_rate=0.2)
    rng = random.Random(2)
    workers = [SimWorker(UserFactory.create(), accurate(crowd.truth, 0.9, rng)) for _ in range(2)]
    client = logged_in(crowd.owner)
    work(crowd.batch, workers[:1])
    counts = []
    for _round in range(2):
        for name in ("results", "workers"):
            with django_assert_max_num_queries(12) as captured:
                assert client.get(url(name, crowd.batch.pk)).status_code == 200
            counts.append(len(captured.captured_queries))
        work(crowd.batch, [*workers[1:], SimWorker(UserFactory.create(), at_random(rng))])
    assert counts[:2] == counts[2:]


def test_results_api_and_worker_actions_are_only_for_the_client():
    crowd = crowd_batch(items=4, gold=1, min_answers=1, max_answers=1)
    worker = SimWorker(UserFactory.create(), at_random(random.Random(1)))
    work(crowd.batch, [worker])
    stranger = api(UserFactory.create())
    pseudonym = worker_pseudonym(batch_id=crowd.batch.pk, user_id=worker.user.pk)
    base = f"/api/v1/batches/{crowd.batch.pk}"
    assert stranger.get(f"{base}/results").status_code == 404
    assert stranger.get(f"{base}/workers").status_code == 404
    assert stranger.post(f"{base}/workers/{pseudonym}/exclude").status_code == 404
    assert logged_in(worker.user).get(url("results", crowd.batch.pk)).status_code == 404
    owner = api(crowd.owner)
    assert owner.post(f"{base}/workers/w-nobody/exclude").status_code == 404
    first = owner.post(f"{base}/workers/{pseudonym}/exclude").json()
    again = owner.post(f"{base}/workers/{pseudonym}/exclude").json()
    assert first == again and first["excluded"] is True
    assert owner.post(f"{base}/workers/{pseudonym}/include").json()["excluded"] is False


def test_results_page_shows_the_reliability_of_the_confidence_on_test_questions():
    random.seed(5)
    crowd = crowd_batch(items=40, gold=12, seed=5, min_answers=3, max_answers=3, gold_rate=0.3)
    rng = random.Random(5)
    workers = [SimWorker(UserFactory.create(), accurate(crowd.truth, 0.8, rng)) for _ in range(4)]
    work(crowd.batch, workers)
    rows = batch_reliability(batch=crowd.batch)
    gold = Item.objects.filter(batch=crowd.batch, is_gold=True, confidence__isnull=False)
    assert sum(r.items for r in rows) == gold.count() > 0
    for row in rows:
        assert row.low <= row.stated <= row.high
        assert 0.0 <= row.observed <= 1.0
    page = logged_in(crowd.owner).get(url("results", crowd.batch.pk)).content.decode()
    assert "Is the confidence honest?" in page
    assert f'<td class="num">{rows[0].items}</td>' in page
