"""The idea-calls API: the whole flow, error codes, and Idempotency-Key on money verbs."""

from __future__ import annotations

from typing import Any

import pytest

from trefpunt.accounts.services import api_token_create
from trefpunt.ideas.models import IdeaCall, RewardPayment
from trefpunt.ledger.tests.factories import fund_wallet

from .factories import assert_money_consistent, balance, later, make_user, post, stage, wallet_of

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, client: Any, user: Any) -> None:
        _token, raw = api_token_create(user=user, name="script")
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def post(self, path: str, body: Any = None, key: str = "") -> Any:
        headers = dict(self.headers, **({"Idempotency-Key": key} if key else {}))
        return self.client.post(
            f"/api/v1{path}", body or {}, content_type="application/json", headers=headers
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )


def test_the_whole_flow_through_the_api(client) -> None:
    owner = make_user()
    api = Api(client, owner)
    created = api.post(
        "/idea-calls",
        {
            "title": "Less waste",
            "question": "How do we cut waste?",
            "submission_deadline": later(3).isoformat(),
            "voting_deadline": later(6).isoformat(),
            "reward_amount": 5000,
            "reward_count": 1,
            "tags": ["Shops"],
        },
    )
    assert created.status_code == 201, created.json()
    call_id = created.json()["id"]
    assert api.patch(f"/idea-calls/{call_id}", {"title": "Less waste, please"}).json()["title"] == (
        "Less waste, please"
    )
    short = api.post(f"/idea-calls/{call_id}/publish", key="pub-1")
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_funds"
    call = IdeaCall.objects.get(pk=call_id)
    fund_wallet(wallet_of(call), owner, 5500)
    published = api.post(f"/idea-calls/{call_id}/publish", key="pub-2")
    assert published.json()["status"] == "open"
    replay = api.post(f"/idea-calls/{call_id}/publish", key="pub-2")
    assert replay.headers["Idempotent-Replayed"] == "true"

    author, voter = make_user(), make_user()
    idea = Api(client, author).post(
        f"/idea-calls/{call_id}/ideas", {"title": "Deposit cups", "description": "Cups on deposit"}
    )
    assert idea.status_code == 201
    idea_id = idea.json()["id"]
    similar = Api(client, voter).get(f"/ideas/similar?call={call_id}&title=Cups+with+a+deposit")
    assert [i["id"] for i in similar.json()["items"]] == [idea_id]
    assert Api(client, voter).post(f"/ideas/{idea_id}/vote").json()["score"] == 1
    assert Api(client, voter).post(f"/ideas/{idea_id}/vote").json()["score"] == 1
    own = Api(client, author).post(f"/ideas/{idea_id}/vote")
    assert (own.status_code, own.json()["error"]["code"]) == (403, "own_idea")
    comment = Api(client, voter).post(f"/ideas/{idea_id}/comments", {"body": "Great"})
    assert comment.status_code == 201
    assert api.get(f"/ideas/{idea_id}/comments").json()["count"] == 1
    locked = Api(client, author).patch(
        f"/ideas/{idea_id}", {"title": "New", "description": "New text"}
    )
    assert locked.json()["error"]["code"] == "idea_locked"

    selected = stage(call, "selected").pk
    body = {"stage_id": selected, "reason": "We will do it."}
    moved = api.post(f"/ideas/{idea_id}/stage", body, key="stage-1")
    assert moved.json()["stage"]["id"] == selected
    again = api.post(f"/ideas/{idea_id}/stage", body, key="stage-1")
    assert again.status_code == 200
    assert RewardPayment.objects.filter(idea_id=idea_id).count() == 1
    assert balance(author) == 5000

    closed = api.post(f"/idea-calls/{call_id}/close", {"reason": ""}, key="close-1")
    assert closed.json()["status"] == "closed"
    assert closed.json()["answered_count"] == 1
    assert_money_consistent()


def test_merge_and_follow_through_the_api(client) -> None:
    owner = make_user()
    from .factories import open_call

    call = open_call(owner)
    kept, duplicate = post(call), post(call)
    api = Api(client, owner)
    merged = api.post(f"/ideas/{duplicate.pk}/merge", {"into": kept.pk})
    assert merged.json()["id"] == kept.pk
    assert len(merged.json()["authors"]) == 2
    same = api.post(f"/ideas/{kept.pk}/merge", {"into": kept.pk})
    assert same.json()["error"]["code"] == "merge_same"
    assert Api(client, make_user()).post(f"/ideas/{kept.pk}/follow", {"follow": True}).json() == {
        "follow": True
    }


def test_api_errors_have_codes(client) -> None:
    owner = make_user()
    from .factories import open_call

    call = open_call(owner)
    idea = post(call)
    api = Api(client, make_user())
    assert api.get("/idea-calls/999999").json()["error"]["code"] == "not_found"
    refused = api.post(f"/ideas/{idea.pk}/stage", {"stage_id": 1, "reason": "x"})
    assert refused.status_code == 404
    too_long = api.post(f"/idea-calls/{call.pk}/ideas", {"title": "x" * 141, "description": "y"})
    assert too_long.status_code == 422
