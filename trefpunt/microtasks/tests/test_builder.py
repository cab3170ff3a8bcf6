"""The task builder (issue 14): templates, fields added in the browser, columns shown, the
preview with a real item; the JSON form is still accepted through the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import ValidationFailed
from trefpunt.microtasks.formspec import answer_clean
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.services.builder import (
    TEMPLATES,
    batch_template_apply,
    builder_field_spec,
)
from trefpunt.microtasks.tests.factories import BatchFactory

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_batch_template_apply_gives_a_valid_form_for_every_template(key):
    batch = BatchFactory.create(instructions="")
    batch = batch_template_apply(batch_id=batch.pk, user=batch.owner, template=key)
    assert batch.form and batch.display and batch.instructions
    assert batch.form[0]["label"] == str(TEMPLATES[key].form[0]["label"])


def test_builder_page_builds_a_form_field_by_field_and_previews_a_real_item():
    owner = UserFactory.create()
    batch = BatchFactory.create(user=owner, items=3)
    client = logged_in(owner)
    url = reverse("microtasks:builder", args=[batch.pk])
    client.post(url, {"action": "template", "template": "sentiment"})
    client.post(
        url,
        {
            "action": "field_add",
            "type": "multiple",
            "label": "Topics",
            "choices": "delivery = Delivery\nprice",
            "help": "Tick every topic the text mentions.",
            "example": "“Too expensive” is about price.",
        },
    )
    client.post(
        url,
        {
            "action": "field_add",
            "type": "rating",
            "label": "Usefulness",
            "scale": 4,
            "required": "on",
        },
    )
    batch.refresh_from_db()
    assert [f["name"] for f in batch.form] == ["sentiment", "topics", "usefulness"]
    topics = batch.form[1]
    assert topics["choices"] == [
        {"value": "delivery", "label": "Delivery"},
        {"value": "price", "label": "price"},
    ]
    assert topics["required"] is False
    assert topics["example"] == "“Too expensive” is about price."
    assert batch.form[2] | {} == batch.form[2]
    assert answer_clean(batch.form, {"sentiment": "positive", "usefulness": "4"})["usefulness"] == 4
    with pytest.raises(ValidationFailed):
        answer_clean(batch.form, {"sentiment": "positive", "usefulness": "5"})
    page = client.get(url).content.decode()
    assert "Review number 1, quite good" in page  # the preview shows a real item
    assert 'name="preview-usefulness" value="4"' in page
    assert "Tick every topic the text mentions." in page

    client.post(url, {"action": "field_remove", "name": "topics"})
    bad = client.post(
        url, {"action": "display_add", "column": "nope", "widget": "text"}, follow=True
    )
    assert "Your items have no column nope." in bad.content.decode()
    batch.refresh_from_db()
    assert [f["name"] for f in batch.form] == ["sentiment", "usefulness"]
    assert [d["column"] for d in batch.display] == ["text"]


def test_builder_page_is_not_found_for_others_and_after_publishing():
    batch = BatchFactory.create(items=1)
    url = reverse("microtasks:builder", args=[batch.pk])
    assert logged_in(UserFactory.create()).get(url).status_code == 404
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.OPEN)
    assert logged_in(batch.owner).get(url).status_code == 404


def test_builder_field_spec_makes_unique_names():
    spec = builder_field_spec(kind="text", label="Topics", taken={"topics"})
    assert spec["name"] == "topics_2"


def test_the_json_form_is_still_accepted_through_the_api():
    owner = UserFactory.create()
    _token, raw = api_token_create(user=owner, name="script")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    form = [
        {"name": "stars", "label": "Stars", "type": "number", "scale": 5, "example": "4"},
        {"name": "ok", "label": "OK?", "type": "single", "choices": ["yes", "no"]},
    ]
    response = api.post(
        "/api/v1/batches",
        json.dumps(
            {
                "title": "Rate the answers",
                "form": form,
                "display": [{"column": "text", "widget": "text"}],
                "reward": 20,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code in (200, 201), response.content
    batch = Batch.objects.get(title="Rate the answers")
    assert batch.form[0] | {} == {
        "name": "stars",
        "label": "Stars",
        "type": "number",
        "required": True,
        "example": "4",
        "integer": True,
        "min": 1,
        "max": 5,
        "scale": 5,
    }
