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
from django.utils.translation import override

from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.microtasks.aggregation.adaptive import calibration_from
from trefpunt.microtasks.models import Answer, BatchWorker, Item
from trefpunt.microtasks.selectors import worker_pseudonym
from trefpunt.microtasks.selectors.reliability import (
    MIN_STOPPED,
    batch_reliability,
    batch_stop_reliability,
)
from trefpunt.microtasks.services import REFIT_QUIET
from trefpunt.microtasks.services.aggregation import batch_aggregate
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


def test_stop_reliability_says_when_nothing_can_stop_early_yet(django_assert_max_num_queries):
    """A small batch at three answers: the stopping rule has no calibration (no question
    has several times the minimum answers), so no question stops early and the page says
    so instead of showing an empty table."""
    random.seed(5)
    crowd = crowd_batch(items=40, gold=12, seed=5, min_answers=3, max_answers=3, gold_rate=0.3)
    rng = random.Random(5)
    work(
        crowd.batch,
        [SimWorker(UserFactory.create(), accurate(crowd.truth, 0.8, rng)) for _ in range(4)],
    )
    crowd.batch.refresh_from_db()
    with django_assert_max_num_queries(1):
        stop = batch_stop_reliability(batch=crowd.batch)
    assert not stop.calibrated and stop.stopped == 0 and stop.rows == []
    assert stop.replayed == 12
    answered = sum(row.items for row in batch_reliability(batch=crowd.batch))
    with django_assert_max_num_queries(0):
        assert batch_stop_reliability(batch=crowd.batch, answered_gold=answered) == stop
    page = logged_in(crowd.owner).get(url("results", crowd.batch.pk)).content.decode()
    assert 'data-stop-reliability="uncalibrated"' in page


def _stopped_by_hand(batch) -> list[tuple[float, bool]]:
    """The test questions' stop points, replayed one answer at a time through the service
    that runs when an answer arrives (independent of the selector's loop)."""
    from trefpunt.microtasks.aggregation.adaptive import DEFAULT_MIN_AGREEING
    from trefpunt.microtasks.quality import AnswerRow, gold_matches, item_result
    from trefpunt.microtasks.services.stopping import item_stopping

    out = []
    for item in Item.objects.filter(batch=batch, is_gold=True).order_by("pk"):
        answers = list(Answer.objects.filter(item=item).order_by("created_at", "pk"))
        estimates = dict(
            BatchWorker.objects.filter(batch=batch).values_list("worker_id", "estimate")
        )
        rows = [
            AnswerRow(a.worker_id, a.data, estimates.get(a.worker_id), answer_id=a.pk)
            for a in answers
        ]
        for n in range(batch.min_answers, min(len(rows), batch.max_answers - 1) + 1):
            result = item_result(
                batch.form, batch.aggregation_method, batch.quality_model, rows[:n]
            )
            item_stopping(batch=batch, rows=rows[:n], result=result)
            assert result.details is not None and result.answer is not None
            stop = result.details["stop"]
            # the rule restated: target reached, enough distinct workers behind the leader
            agreeing = stop["agreeing"] >= DEFAULT_MIN_AGREEING
            if stop["confidence"] >= batch.confidence_target and agreeing:
                right = gold_matches(batch.form, item.gold_answer, result.answer)
                out.append((stop["confidence"], right))
                break
    return out


@pytest.mark.parametrize(("gold", "measured"), [(30, True), (8, False)])
def test_results_page_shows_stated_against_observed_for_questions_stopped_early(
    django_assert_max_num_queries, gold, measured
):
    """Test questions always get their maximum answers; replayed in arrival order through
    the stopping rule (the batch's calibration stored by its full fit), those the rule would
    have stopped below the maximum are listed by stated confidence against the share that
    was right — or, with fewer than MIN_STOPPED of them, a sentence that it is too few."""
    random.seed(3)
    crowd = crowd_batch(items=40, gold=gold, seed=3, min_answers=3, max_answers=6, gold_rate=0.5)
    rng = random.Random(3)
    workers = [SimWorker(UserFactory.create(), accurate(crowd.truth, 0.9, rng)) for _ in range(6)]
    work(crowd.batch, workers)
    batch = crowd.batch
    batch.refresh_from_db()
    assert batch_aggregate(batch_id=batch.pk)
    batch.refresh_from_db()
    # The calibration the full fit stored decides nothing on 40 questions of at most six
    # answers (none yet); the identity map stands in for a calibrated batch: the stated
    # stopping confidence is the leave-one-out confidence itself.
    model = batch.quality_model
    assert model is not None
    model["stop"].update({"edges": [0.0], "levels": [1.0]})
    batch.save(update_fields=["quality_model"])
    assert calibration_from(model["stop"])[1] is not None
    with django_assert_max_num_queries(1):
        stop = batch_stop_reliability(batch=batch)
    expected = _stopped_by_hand(batch)
    assert stop.calibrated and stop.replayed == gold
    assert stop.stopped == len(expected) == sum(r.items for r in stop.rows)
    assert stop.stated == pytest.approx(sum(c for c, _ok in expected) / len(expected))
    assert stop.observed == pytest.approx(sum(ok for _c, ok in expected) / len(expected))
    assert all(c >= batch.confidence_target for c, _ok in expected)
    assert stop.enough is measured
    assert (stop.stopped >= MIN_STOPPED) is measured
    page = logged_in(crowd.owner).get(url("results", batch.pk)).content.decode()
    state = "measured" if measured else "too-few"
    assert f'data-stop-reliability="{state}"' in page
    assert "Questions stopped early" in page
    with override("nl"):
        dutch = logged_in(crowd.owner).get(url("results", batch.pk))
    assert "Vragen die vroeg stopten" in dutch.content.decode()
