"""The webhooks settings page: register an endpoint (secret shown once), read its delivery
log with every attempt, redeliver, enable; someone else's endpoint and delivery are 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trefpunt.contests.tests.factories import make_user
from trefpunt.webhooks.events import webhook_emit
from trefpunt.webhooks.models import WebhookDelivery, WebhookEndpoint
from trefpunt.webhooks.services import endpoint_create

from .receiver import receiver

pytestmark = pytest.mark.django_db


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def emit(user: Any, on_commit: Any, event_id: str) -> None:
    with on_commit(execute=True):
        webhook_emit(
            event="contest.awarded", event_id=event_id, user_id=user.pk, data={"contest": 1}
        )


def test_webhook_settings_view_registers_an_endpoint_and_shows_its_secret_once():
    owner = make_user()
    page = browser(owner).get("/en/settings/webhooks/")
    assert page.status_code == 200
    assert "contest.awarded" in page.content.decode()
    with receiver([]) as hook:
        created = browser(owner).post(
            "/en/settings/webhooks/", {"url": hook.url, "events": ["contest.awarded"]}
        )
    assert created.status_code == 201
    endpoint = WebhookEndpoint.objects.get(user=owner)
    assert endpoint.secret in created.content.decode()
    assert endpoint.secret not in browser(owner).get("/en/settings/webhooks/").content.decode()
    refused = browser(owner).post("/en/settings/webhooks/", {"url": hook.url, "events": []})
    assert refused.status_code == 200
    assert WebhookEndpoint.objects.count() == 1


def test_webhook_endpoint_view_shows_the_log_and_redelivers(django_capture_on_commit_callbacks):
    owner = make_user()
    with receiver([500]) as hook:
        endpoint = endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        for n in range(3):
            emit(owner, django_capture_on_commit_callbacks, f"test:{n}")
        url = f"/en/settings/webhooks/{endpoint.public_id}/"
        with CaptureQueriesContext(connection) as few:
            page = browser(owner).get(url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "HTTP 500" in text and "test:2" in text
        first = WebhookDelivery.objects.get(event_id="test:0")
        with django_capture_on_commit_callbacks(execute=True):
            sent = browser(owner).post(
                f"/en/settings/webhooks/deliveries/{first.public_id}/redeliver/"
            )
        assert sent.status_code == 302
        assert len(hook.accepted) == 3  # test:1, test:2 and the redelivery of test:0
    copy = WebhookDelivery.objects.get(redelivery_of=first)
    assert (copy.event_id, copy.requested_by, copy.status) == ("test:0", owner, "delivered")
    # The log costs the same number of queries for 4 deliveries as for 3.
    with CaptureQueriesContext(connection) as more:
        browser(owner).get(url)
    assert len(more) == len(few)


def test_someone_elses_endpoint_and_delivery_are_not_found(django_capture_on_commit_callbacks):
    owner = make_user()
    stranger = browser(make_user())
    with receiver([]) as hook:
        endpoint = endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
        emit(owner, django_capture_on_commit_callbacks, "test:x")
    delivery = WebhookDelivery.objects.get()
    assert stranger.get(f"/en/settings/webhooks/{endpoint.public_id}/").status_code == 404
    redeliver = f"/en/settings/webhooks/deliveries/{delivery.public_id}/redeliver/"
    assert stranger.post(redeliver).status_code == 404
    assert stranger.post(f"/en/settings/webhooks/{endpoint.public_id}/delete/").status_code == 404
    assert WebhookDelivery.objects.count() == 1 and WebhookEndpoint.objects.count() == 1


def test_a_disabled_endpoint_is_enabled_again_from_its_page():
    owner = make_user()
    with receiver([]) as hook:
        endpoint = endpoint_create(user=owner, url=hook.url, events=["contest.awarded"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    page = browser(owner).get(f"/en/settings/webhooks/{endpoint.public_id}/")
    assert "Enable again" in page.content.decode()
    browser(owner).post(f"/en/settings/webhooks/{endpoint.public_id}/enable/")
    endpoint.refresh_from_db()
    assert endpoint.is_active
