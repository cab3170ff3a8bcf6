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


def test_a_date_field_asks_for_a_date_and_a_datetime_field_for_a_time_too():
    """A milestone's due date (a date) was told to look like 2030-01-31T18:00:00+01:00."""
    from datetime import date, datetime

    from pydantic import BaseModel, ValidationError

    from trefpunt.core.api_schema import error_message

    class When(BaseModel):
        day: date
        moment: datetime

    with pytest.raises(ValidationError) as caught:
        When.model_validate({"day": "31-01-2030", "moment": "tomorrow"})
    messages = {str(e["loc"][0]): error_message(dict(e)) for e in caught.value.errors()}
    assert messages == {
        "day": "Enter a date like 2030-01-31.",
        "moment": "Enter a date and time, e.g. 2030-01-31T18:00:00+01:00.",
    }
