from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from trefpunt.accounts.services import api_token_create
from trefpunt.contests.tests.factories import (
    enter,
    join_organisation,
    make_organisation,
    make_user,
    published,
)
from trefpunt.webhooks.events import webhook_emit
from trefpunt.webhooks.models import WebhookDelivery, WebhookEndpoint
from trefpunt.webhooks.services import endpoint_create, webhooks_retry
from trefpunt.webhooks.signing import SignatureInvalid, webhook_sign, webhook_verify

from .receiver import receiver

pytestmark = pytest.mark.django_db


def api(user: Any) -> Client:
    _token, raw = api_token_create(user=user, name="hooks")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def emit(user: Any, on_commit: Any, event_id: str = "test:1") -> None:
    with on_commit(execute=True):
        webhook_emit(
            event="contest.awarded",
            event_id=event_id,
            user_id=user.pk,
            data={"contest": {"id": 1, "title": "Logo"}},
        )


def test_webhook_verify_accepts_the_signature_and_refuses_tampering_and_replays():
    body = b'{"id":"x"}'
    header = webhook_sign("whsec_k", body, timestamp=1_000_000)
    assert webhook_verify("whsec_k", body, header, now=1_000_100) == 1_000_000
    with pytest.raises(SignatureInvalid):
        webhook_verify("whsec_k", b'{"id":"y"}', header, now=1_000_100)
    with pytest.raises(SignatureInvalid):
        webhook_verify("whsec_other", body, header, now=1_000_100)
    with pytest.raises(SignatureInvalid):  # outside the five-minute replay window
        webhook_verify("whsec_k", body, header, now=1_000_000 + 301)
    with pytest.raises(SignatureInvalid):
        webhook_verify("whsec_k", body, "v1=abc", now=1_000_000)


def test_delivery_is_retried_with_backoff_until_accepted_exactly_once(
    django_capture_on_commit_callbacks,
):
    owner = make_user()
    with receiver([500, 503]) as hook:
        endpoint = endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        emit(owner, django_capture_on_commit_callbacks)
        assert len(hook.requests) == 1
        delivery = WebhookDelivery.objects.get()
        start = delivery.created_at
        # Not due yet: the sweep sends nothing.
        assert webhooks_retry() == 0
        with time_machine.travel(start + timedelta(seconds=31), tick=False):
            assert webhooks_retry() == 1
        assert len(hook.requests) == 2
        with time_machine.travel(start + timedelta(seconds=31 + 60), tick=False):
            assert webhooks_retry() == 0  # the second wait is 2 minutes
        with time_machine.travel(start + timedelta(seconds=31 + 121), tick=False):
            assert webhooks_retry() == 1
        with time_machine.travel(start + timedelta(hours=30), tick=False):
            assert webhooks_retry() == 0  # delivered: never sent again
    assert [r.answered for r in hook.requests] == [500, 503, 200]
    assert len(hook.accepted) == 1
    accepted = hook.accepted[0]
    assert webhook_verify(endpoint.secret, accepted.body, accepted.headers["Trefpunt-Signature"])
    payload = json.loads(accepted.body)
    assert payload["id"] == "test:1"
    assert payload["type"] == "contest.awarded"
    assert accepted.headers["Trefpunt-Delivery"] == str(delivery.public_id)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_the_same_event_reaches_an_endpoint_once(django_capture_on_commit_callbacks):
    owner = make_user()
    with receiver([]) as hook:
        endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        emit(owner, django_capture_on_commit_callbacks)
        emit(owner, django_capture_on_commit_callbacks)
    assert len(hook.requests) == 1


def test_endpoints_hear_only_their_owners_work_and_chosen_events(
    django_capture_on_commit_callbacks,
):
    owner, other = make_user(), make_user()
    with receiver([]) as hook:
        endpoint_create(user=owner, url=hook.url, events=["contest.entry_submitted"])
        endpoint_create(user=other, url=hook.url, events=["contest.awarded"])
        emit(owner, django_capture_on_commit_callbacks)  # owner does not listen to awards
    assert hook.requests == []


def test_a_real_entry_submission_reaches_the_clients_endpoint(django_capture_on_commit_callbacks):
    client = make_user()
    contest = published(client)
    with receiver([]) as hook:
        endpoint = endpoint_create(user=client, url=hook.url, events=["contest.entry_submitted"])
        with django_capture_on_commit_callbacks(execute=True):
            entry = enter(contest)
    (received,) = hook.requests
    webhook_verify(endpoint.secret, received.body, received.headers["Trefpunt-Signature"])
    data = json.loads(received.body)["data"]
    assert data["contest"]["id"] == contest.pk
    assert data["entry"] == {"id": entry.pk, "number": entry.number, "title": entry.title}


def test_redelivery_by_the_owner_resends_and_a_forged_one_is_refused(
    django_capture_on_commit_callbacks,
):
    owner, intruder = make_user(), make_user()
    with receiver([]) as hook:
        endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        emit(owner, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        path = f"/api/v1/webhooks/deliveries/{delivery.public_id}/redeliver"
        with django_capture_on_commit_callbacks(execute=True):
            refused = api(intruder).post(path)
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "not_found"
        assert len(hook.requests) == 1
        with django_capture_on_commit_callbacks(execute=True):
            done = api(owner).post(path)
        assert done.status_code == 202
    assert done.json()["redelivery_of"] == str(delivery.public_id)
    assert len(hook.requests) == 2
    first, again = (json.loads(r.body) for r in hook.requests)
    assert first == again  # same event id and body: the receiver can tell it has it
    assert (
        hook.requests[0].headers["Trefpunt-Delivery"]
        != hook.requests[1].headers["Trefpunt-Delivery"]
    )


def test_the_delivery_log_is_the_owners_alone(django_capture_on_commit_callbacks):
    owner, intruder = make_user(), make_user()
    with receiver([500]) as hook:
        endpoint = endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        emit(owner, django_capture_on_commit_callbacks)
    log = api(owner).get(f"/api/v1/webhooks/{endpoint.public_id}/deliveries")
    assert log.status_code == 200
    (row,) = log.json()["results"]
    assert row["status"] == "pending"
    assert row["attempt_log"][0]["status_code"] == 500
    assert api(intruder).get(f"/api/v1/webhooks/{endpoint.public_id}/deliveries").status_code == 404
    assert api(intruder).get(f"/api/v1/webhooks/{endpoint.public_id}").status_code == 404
    assert api(intruder).delete(f"/api/v1/webhooks/{endpoint.public_id}").status_code == 404
    assert api(intruder).get("/api/v1/webhooks").json() == []
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_register_through_the_api_shows_the_secret_once():
    owner = make_user()
    with receiver([]) as hook:
        created = api(owner).post(
            "/api/v1/webhooks",
            {"url": hook.url, "events": ["batch.finished", "idea.stage_changed"]},
            content_type="application/json",
        )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    shown = api(owner).get(f"/api/v1/webhooks/{body['id']}").json()
    assert "secret" not in shown
    assert shown["events"] == ["batch.finished", "idea.stage_changed"]
    kinds = {k["key"] for k in api(owner).get("/api/v1/webhooks/events").json()}
    assert {
        "contest.entry_submitted",
        "contest.awarded",
        "batch.item_completed",
        "batch.finished",
        "idea.stage_changed",
    } <= kinds


def test_organisation_endpoints_are_managed_by_its_admins_only():
    owner = make_user()
    organisation = make_organisation(owner)
    member = join_organisation(organisation, owner, "member")
    with receiver([]) as hook:
        payload = {
            "url": hook.url,
            "events": ["contest.awarded"],
            "organisation": organisation.slug,
        }
        refused = api(member).post("/api/v1/webhooks", payload, content_type="application/json")
        created = api(owner).post("/api/v1/webhooks", payload, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_a_manager"
    assert created.status_code == 201
    assert api(member).get(f"/api/v1/webhooks/{created.json()['id']}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.9/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
        "http://user:pass@example.org/hook",
        "ftp://example.org/hook",
    ],
)
def test_private_and_loopback_urls_are_refused_in_production(settings, url):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    answer = api(make_user()).post(
        "/api/v1/webhooks",
        {"url": url, "events": ["contest.awarded"]},
        content_type="application/json",
    )
    assert answer.status_code == 422
    assert "url" in answer.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_to_a_public_address_is_refused():
    answer = api(make_user()).post(
        "/api/v1/webhooks",
        {"url": "http://93.184.215.14/hook", "events": ["contest.awarded"]},
        content_type="application/json",
    )
    assert answer.status_code == 422


def test_an_address_is_checked_again_before_each_request(
    settings, django_capture_on_commit_callbacks
):
    owner = make_user()
    with receiver([]) as hook:
        endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        settings.WEBHOOK_ALLOW_LOOPBACK = False
        emit(owner, django_capture_on_commit_callbacks)
    assert hook.requests == []
    attempt = WebhookDelivery.objects.get().attempt_log.get()
    assert attempt.status_code is None
    assert "public" in attempt.error


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owner_told(
    django_capture_on_commit_callbacks,
):
    owner = make_user()
    with receiver([], then=500) as hook:
        endpoint = endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        emit(owner, django_capture_on_commit_callbacks)
        start = timezone.now()
        for hours in range(1, 27):
            with (
                time_machine.travel(start + timedelta(hours=hours), tick=False),
                django_capture_on_commit_callbacks(execute=True),
            ):
                webhooks_retry()
        sent = len(hook.requests)
        with time_machine.travel(start + timedelta(hours=40), tick=False):
            emit(owner, django_capture_on_commit_callbacks, event_id="test:2")
            webhooks_retry()
        assert len(hook.requests) == sent  # disabled: nothing more is sent
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    assert WebhookDelivery.objects.get(event_id="test:1").status == WebhookDelivery.Status.FAILED
    assert 5 <= sent <= 12  # exponential backoff, not one request per sweep
    (message,) = [m for m in mail.outbox if owner.email in m.to]
    assert hook.url in message.body
    enabled = api(owner).post(f"/api/v1/webhooks/{endpoint.public_id}/enable")
    assert enabled.json()["is_active"] is True


def test_a_batch_tells_each_completed_item_and_then_that_it_finished(
    django_capture_on_commit_callbacks,
):
    from trefpunt.microtasks.services import lease_answer
    from trefpunt.microtasks.tests.factories import claim, published_batch

    owner = make_user()
    batch = published_batch(items=2, owner=owner, min_answers=1, max_answers=1, gold_rate=0)
    with receiver([]) as hook:
        endpoint_create(user=owner, url=hook.url, events=["batch.item_completed", "batch.finished"])
        for _ in range(2):
            worker = make_user()
            with django_capture_on_commit_callbacks(execute=True):
                lease = claim(batch, worker)
                lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    events = [json.loads(r.body)["type"] for r in hook.requests]
    assert events == ["batch.item_completed", "batch.item_completed", "batch.finished"]
    assert json.loads(hook.requests[0].body)["data"]["item"]["answer"] == {"sentiment": "pos"}


def test_a_fit_that_leaves_no_item_open_tells_the_endpoint_the_batch_finished(
    django_capture_on_commit_callbacks,
):
    from trefpunt.microtasks.models import Batch, Item
    from trefpunt.microtasks.services import batch_aggregate, lease_answer, lease_claim
    from trefpunt.microtasks.tests.factories import published_batch

    owner = make_user()
    batch = published_batch(items=3, owner=owner, min_answers=2, max_answers=5, gold_rate=0)
    for worker in (make_user(), make_user()):
        while (lease := lease_claim(batch_id=batch.pk, worker=worker)) is not None:
            lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    assert not Item.objects.filter(batch=batch).exclude(status=Item.Status.OPEN).exists()
    # No answer completes an item now: the fit settles them (with the maximum at the
    # answers they have, each completes or needs review).
    Batch.objects.filter(pk=batch.pk).update(max_answers=2)
    Item.objects.filter(batch=batch).update(answers_target=2)
    with receiver([]) as hook:
        endpoint_create(user=owner, url=hook.url, events=["batch.finished"])
        with django_capture_on_commit_callbacks(execute=True):
            assert batch_aggregate(batch_id=batch.pk)
    assert not Item.objects.filter(batch=batch, status=Item.Status.OPEN).exists()
    assert [json.loads(r.body)["type"] for r in hook.requests] == ["batch.finished"]


def test_a_fit_that_completes_items_tells_each_once_and_then_that_the_batch_finished(
    django_capture_on_commit_callbacks,
):
    # As above, but the endpoint also hears about items: those the fit completed are told
    # (with the fit's answer), not those it left needing review, each once however often
    # the batch is fitted again.
    from trefpunt.microtasks.models import Batch, Item
    from trefpunt.microtasks.services import batch_aggregate, lease_answer, lease_claim
    from trefpunt.microtasks.tests.factories import published_batch

    owner = make_user()
    batch = published_batch(items=4, owner=owner, min_answers=2, max_answers=5, gold_rate=0)
    split = {}
    for n, worker in enumerate((make_user(), make_user())):
        while (lease := lease_claim(batch_id=batch.pk, worker=worker)) is not None:
            # The last item gets two different answers: uncertain, so it needs review.
            last = lease.item.position == 3
            answer = {"sentiment": "neg" if last and n else "pos"}
            split[lease.item_id] = last
            lease_answer(lease_id=lease.pk, worker=worker, answer=answer)
    # Two agreeing answers are enough at this target; two that differ are not.
    Batch.objects.filter(pk=batch.pk).update(max_answers=2, confidence_target=0.85)
    Item.objects.filter(batch=batch).update(answers_target=2)
    with receiver([]) as hook:
        endpoint_create(user=owner, url=hook.url, events=["batch.item_completed", "batch.finished"])
        with django_capture_on_commit_callbacks(execute=True):
            assert batch_aggregate(batch_id=batch.pk)
        lease_claim(batch_id=batch.pk, worker=make_user())  # nothing left: None
        with django_capture_on_commit_callbacks(execute=True):
            batch_aggregate(batch_id=batch.pk)  # the same answers again
    complete = set(
        Item.objects.filter(batch=batch, status=Item.Status.COMPLETE).values_list("pk", flat=True)
    )
    assert complete == {pk for pk, last in split.items() if not last}
    sent = [json.loads(r.body) for r in hook.requests]
    assert [event["type"] for event in sent] == ["batch.item_completed"] * 3 + ["batch.finished"]
    assert {event["data"]["item"]["id"] for event in sent[:3]} == complete
    assert all(event["data"]["item"]["answer"] == {"sentiment": "pos"} for event in sent[:3])
    assert all(event["data"]["item"]["confidence"] > 0.5 for event in sent[:3])


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_deliveries_is_queued_twenty_to_a_task_and_each_arrives_once():
    # A fit that completes many items at once makes an event for each: they reach the
    # endpoint through a few queued tasks, not one task per delivery (the real queue).
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from trefpunt.webhooks.services import deliveries_create_many

    owner = make_user()
    events = [(f"test:burst:{k}", {"n": k}) for k in range(250)]
    queue = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with receiver([]) as hook, override_settings(TASKS=queue):
        endpoint_create(user=owner, url=hook.url, events=["batch.item_completed"])
        with transaction.atomic():
            created = deliveries_create_many(
                event="batch.item_completed", events=events, user_id=owner.pk, organisation_id=None
            )
        assert len(created) == 250
        assert DBTaskResult.objects.count() == 13
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert sorted(json.loads(r.body)["id"] for r in hook.requests) == sorted(e for e, _ in events)
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists()


def test_webhook_listeners_sql_agrees_with_webhook_listeners():
    # The workers' answer statement reads the owner's listeners with the SQL rule
    # (PostgreSQL); the rest of the platform with the Python one. They must agree: a user's
    # own active endpoints (not those they made for an organisation), or the organisation's.
    from django.db import connection

    from trefpunt.webhooks.services import (
        webhook_listeners,
        webhook_listeners_read,
        webhook_listeners_sql,
    )

    if connection.vendor != "postgresql":
        pytest.skip("the SQL rule is written for PostgreSQL")
    owner, other, nobody = make_user(), make_user(), make_user()
    organisation = make_organisation(owner)
    url = "http://127.0.0.1:9/hook"
    endpoint_create(user=owner, url=url, events=["contest.awarded"])
    endpoint_create(user=owner, url=url, events=["batch.finished"], organisation=organisation)
    off = endpoint_create(user=owner, url=url, events=["batch.item_completed"])
    WebhookEndpoint.objects.filter(pk=off.pk).update(is_active=False)
    endpoint_create(user=other, url=url, events=["contest.awarded", "batch.finished"])
    sql = "SELECT " + webhook_listeners_sql(
        user="%(user)s::bigint", organisation="%(organisation)s::bigint"
    )
    owners = [
        (owner.pk, None),
        (owner.pk, organisation.pk),
        (other.pk, None),
        (nobody.pk, None),
        (None, organisation.pk),
    ]
    for user_id, organisation_id in owners:
        with connection.cursor() as cursor:
            cursor.execute(sql, {"user": user_id, "organisation": organisation_id})
            found = webhook_listeners_read(cursor.fetchone()[0])
        assert found == webhook_listeners(user_id=user_id, organisation_id=organisation_id)
    assert len(webhook_listeners(user_id=owner.pk, organisation_id=None)) == 1
    assert len(webhook_listeners(user_id=None, organisation_id=organisation.pk)) == 1
