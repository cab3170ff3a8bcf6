from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trefpunt.accounts.models import ApiToken
from trefpunt.accounts.services import (
    api_token_create,
    api_token_revoke,
    portfolio_item_create,
    profile_update,
)
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory, image_upload

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_me_api_with_a_token_answers_the_tokens_user(client):
    anna = UserFactory.create(email="anna@example.org", display_name="Anna")
    bert = UserFactory.create(email="bert@example.org", display_name="Bert")
    OrganisationFactory.create(name="Bakkerij Jansen", user=anna)
    _token, anna_raw = api_token_create(user=anna, name="a")
    _token, bert_raw = api_token_create(user=bert, name="b")
    response = client.get("/api/v1/me", headers=bearer(anna_raw))
    assert response.status_code == 200
    data = response.json()
    assert (data["id"], data["email"], data["display_name"]) == (anna.pk, anna.email, "Anna")
    assert data["organisations"][0]["name"] == "Bakkerij Jansen"
    assert data["organisations"][0]["role"] == "owner"
    assert client.get("/api/v1/me", headers=bearer(bert_raw)).json()["email"] == bert.email


def test_me_api_with_a_revoked_token_is_unauthenticated(client, user):
    token, raw = api_token_create(user=user, name="ci")
    api_token_revoke(user=user, token_id=token.pk)
    response = client.get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer tp_not-a-real-token", "Token abc"])
def test_me_api_without_a_valid_token_is_unauthenticated(client, user, header):
    api_token_create(user=user, name="ci")
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_me_api_records_when_the_token_was_last_used(client, user):
    token, raw = api_token_create(user=user, name="ci")
    client.get("/api/v1/me", headers=bearer(raw))
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_profile_api_answers_the_public_profile_without_a_token(client, user, settings):
    profile_update(
        profile=user.profile,
        handle="anna-draws",
        display_name="Anna de Vries",
        headline="Illustrator",
        bio="Hello.",
        location="Utrecht",
        languages="nl, en",
        skills="illustration",
        avatar=image_upload(),
    )
    portfolio_item_create(owner=user, title="Tea tins", images=[image_upload()])
    OrganisationFactory.create(name="Bakkerij Jansen", user=user)
    response = client.get("/api/v1/profiles/anna-draws")
    assert response.status_code == 200
    data = response.json()
    assert data["handle"] == "anna-draws"
    assert data["languages"] == ["nl", "en"]
    assert data["skills"] == ["illustration"]
    assert data["avatar_url"].startswith(settings.SITE_URL + "/media/avatars/")
    assert data["portfolio"][0]["title"] == "Tea tins"
    assert data["portfolio"][0]["images"][0]["width"] == 64
    assert data["organisations"] == [
        {
            "slug": "bakkerij-jansen",
            "name": "Bakkerij Jansen",
            "url": settings.SITE_URL + "/en/orgs/bakkerij-jansen/",
        }
    ]
    assert data["stats"]["portfolio_items"] == 1
    assert "email" not in data


def test_profile_api_of_an_unknown_handle_is_not_found(client):
    response = client.get("/api/v1/profiles/nobody-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_profile_api_query_count_does_not_grow_with_portfolio_items(client, user):
    portfolio_item_create(owner=user, title="One", images=[image_upload()])
    url = f"/api/v1/profiles/{user.profile.handle}"
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(4):
        portfolio_item_create(owner=user, title=f"{n}", images=[image_upload(), image_upload()])
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(url).json()["portfolio"]) == 5
    assert len(five) == len(one)
