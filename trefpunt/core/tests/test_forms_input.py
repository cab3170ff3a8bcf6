"""Web pages: what no database stores is refused as a form error, never a 500.

A browser cannot send an unpaired surrogate (Django decodes form data with replacement) and
Django's text fields already refuse a typed NUL; JSON typed into a form can still carry
them as escapes (``\\u0000``, ``\\ud800``), which PostgreSQL's jsonb refuses.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.tests.factories import SENTIMENT_FORM, TEXT_DISPLAY

pytestmark = pytest.mark.django_db


def batch_form(**overrides: str) -> dict[str, object]:
    return {
        "title": "Sentiment",
        "instructions": "",
        "display": json.dumps(TEXT_DISPLAY),
        "form": json.dumps(SENTIMENT_FORM),
        "reward": "0,15",
        "estimated_seconds": 20,
        "min_answers": 2,
        "max_answers": 2,
        "lease_minutes": 10,
        "strategy": "depth",
        "aggregation_method": "ds",
        **overrides,
    }


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
@pytest.mark.parametrize("field", ["form", "display"])
def test_batch_form_refuses_json_escapes_no_database_stores(field: str, escape: str) -> None:
    client = Client()
    client.force_login(UserFactory.create())
    data = batch_form()
    data[field] = (
        str(data[field])
        .replace('"text"', f'"te{escape}xt"', 1)
        .replace('"Sentiment"', f'"Senti{escape}ment"', 1)
    )
    response = client.post(reverse("microtasks:batch_create"), data)
    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert not Batch.objects.exists()


def test_batch_form_refuses_a_typed_nul_in_text() -> None:
    client = Client()
    client.force_login(UserFactory.create())
    response = client.post(reverse("microtasks:batch_create"), batch_form(title="Senti\x00ment"))
    assert response.status_code == 422
    assert response.context["form"].errors["title"]
    assert not Batch.objects.exists()


def test_batch_form_still_takes_plain_json() -> None:
    client = Client()
    client.force_login(UserFactory.create())
    response = client.post(reverse("microtasks:batch_create"), batch_form())
    assert response.status_code == 302
    assert Batch.objects.count() == 1
