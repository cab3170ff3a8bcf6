"""Each bound of a batch is defined once (``microtasks.limits``) and read by the model, the
form, the API schema and the service alike."""

from typing import Any

import pytest

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import ValidationFailed
from trefpunt.microtasks import limits
from trefpunt.microtasks.forms import BatchForm, ReasonForm
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.schemas import BatchIn, ReasonIn
from trefpunt.microtasks.services import batch_create
from trefpunt.microtasks.tests.factories import SENTIMENT_FORM, TEXT_DISPLAY


def test_the_model_the_form_and_the_api_schema_read_the_same_bounds():
    schema = BatchIn.model_json_schema()["properties"]
    form: dict[str, Any] = dict(BatchForm().fields)
    assert Batch._meta.get_field("title").max_length == limits.TITLE_MAX_LENGTH
    assert form["title"].max_length == limits.TITLE_MAX_LENGTH
    assert schema["title"]["maxLength"] == limits.TITLE_MAX_LENGTH
    assert schema["reward"]["maximum"] == limits.REWARD_MAX_CENTS
    assert form["max_answers"].max_value == limits.ANSWERS_PER_ITEM_MAX
    assert schema["max_answers"]["maximum"] == limits.ANSWERS_PER_ITEM_MAX
    assert form["lease_minutes"].min_value * 60 == limits.LEASE_SECONDS_MIN
    assert schema["lease_seconds"]["minimum"] == limits.LEASE_SECONDS_MIN
    reason: Any = ReasonForm().fields["reason"]
    assert reason.max_length == limits.REASON_MAX_LENGTH
    assert ReasonIn.model_json_schema()["properties"]["reason"]["maxLength"] == (
        limits.REASON_MAX_LENGTH
    )


@pytest.mark.django_db
def test_batch_create_refuses_what_is_one_past_each_bound():
    user = UserFactory.create()
    values: dict[str, Any] = {"form": SENTIMENT_FORM, "display": TEXT_DISPLAY, "reward": 50}
    with pytest.raises(ValidationFailed) as exc:
        batch_create(
            user=user,
            **values
            | {
                "title": "x" * (limits.TITLE_MAX_LENGTH + 1),
                "reward": limits.REWARD_MAX_CENTS + 1,
                "max_answers": limits.ANSWERS_PER_ITEM_MAX + 1,
                "lease_seconds": limits.LEASE_SECONDS_MIN - 1,
            },
        )
    assert set(exc.value.fields) == {"title", "reward", "max_answers", "lease_seconds"}
    batch = batch_create(
        user=user,
        **values
        | {
            "title": "x" * limits.TITLE_MAX_LENGTH,
            "reward": limits.REWARD_MAX_CENTS,
            "max_answers": limits.ANSWERS_PER_ITEM_MAX,
            "lease_seconds": limits.LEASE_SECONDS_MIN,
        },
    )
    assert batch.max_answers == limits.ANSWERS_PER_ITEM_MAX
