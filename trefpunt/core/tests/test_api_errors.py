import pytest


@pytest.mark.django_db
def test_api_without_credentials_answers_401_in_the_error_shape(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.django_db
def test_api_with_a_bad_token_answers_401(client):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer tp_not-a-real-token")
    assert response.status_code == 401


@pytest.mark.django_db
def test_api_me_answers_for_a_session_user(client, user):
    client.force_login(user)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["handle"] == user.profile.handle


@pytest.mark.django_db
def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Trefpunt API"
