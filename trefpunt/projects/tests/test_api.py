"""The projects API: the whole story, error codes, privacy by guessed ids, Idempotency-Key
on money verbs, hidden reviews, and constant query counts on the list endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trefpunt.accounts.services import api_token_create
from trefpunt.ledger.tests.factories import fund_wallet

from .factories import (
    assert_money_consistent,
    balance,
    hired,
    make_user,
    open_job,
    propose,
    skill,
)

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


def test_the_whole_story_through_the_api(client: Any) -> None:
    skill("Logo design")
    owner, freelancer = make_user(), make_user()
    api, crowd = Api(client, owner), Api(client, freelancer)
    created = api.post(
        "/projects",
        {
            "title": "Logo",
            "description": "A logo.",
            "budget_min": 30_000,
            "skills": ["logo-design"],
        },
    )
    assert created.status_code == 201, created.json()
    job_id = created.json()["id"]
    assert created.json()["budget_max"] == 30_000
    assert api.patch(f"/projects/{job_id}", {"title": "A logo"}).json()["title"] == "A logo"
    assert crowd.get(f"/projects/{job_id}").status_code == 404  # a draft
    assert api.post(f"/projects/{job_id}/publish").json()["status"] == "open"
    assert crowd.get(f"/projects/{job_id}").json()["can_propose"] is True
    sent = crowd.post(
        f"/projects/{job_id}/proposals",
        {
            "price": 30_000,
            "duration_days": 10,
            "cover_letter": "Me!",
            "milestone_plan": [{"title": "All", "amount": 30_000, "days": 10}],
        },
    )
    assert sent.status_code == 201, sent.json()
    proposal_id = sent.json()["id"]
    again = crowd.post(
        f"/projects/{job_id}/proposals", {"price": 100, "duration_days": 1, "cover_letter": "x"}
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_proposed")
    assert api.get(f"/projects/{job_id}/proposals").json()["count"] == 1
    assert crowd.get(f"/projects/{job_id}/proposals").status_code == 404
    accepted = api.post(f"/proposals/{proposal_id}/accept", key="hire-1")
    assert accepted.status_code == 200, accepted.json()
    contract = accepted.json()
    assert api.post(f"/proposals/{proposal_id}/accept", key="hire-1").json()["id"] == contract["id"]
    milestone_id = contract["milestones"][0]["id"]
    early = crowd.post(f"/milestones/{milestone_id}/deliver", {"message": "Done"})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "not_funded")
    poor = api.post(f"/milestones/{milestone_id}/fund")
    assert (poor.status_code, poor.json()["error"]["code"]) == (409, "insufficient_funds")
    fund_wallet(payer_wallet_of(owner), owner, 31_500)
    assert api.post(f"/milestones/{milestone_id}/fund", key="f1").json()["status"] == "funded"
    assert api.post(f"/milestones/{milestone_id}/fund", key="f1").status_code == 200
    assert crowd.post(f"/milestones/{milestone_id}/deliver", {"message": "v1"}).status_code == 200
    changes = api.post(f"/milestones/{milestone_id}/request-changes", {"reason": "Bigger"})
    assert changes.json()["changes_count"] == 1
    crowd.post(f"/milestones/{milestone_id}/deliver", {"message": "v2"})
    assert crowd.post(f"/milestones/{milestone_id}/approve").status_code == 403
    approved = api.post(f"/milestones/{milestone_id}/approve", key="a1")
    assert approved.json()["status"] == "released"
    assert api.post(f"/milestones/{milestone_id}/approve", key="a1").status_code == 200
    assert balance(freelancer) == 27_000
    body = api.get(f"/contracts/{contract['id']}").json()
    assert body["status"] == "ended" and body["money"]["paid"] == 30_000
    assert (
        api.post(f"/contracts/{contract['id']}/review", {"rating": 5, "text": "Great"}).status_code
        == 201
    )
    assert crowd.get(f"/contracts/{contract['id']}").json()["reviews"] == []
    crowd.post(f"/contracts/{contract['id']}/review", {"rating": 4, "text": "Fine"})
    stranger = Api(client, make_user())
    assert stranger.get(f"/contracts/{contract['id']}").status_code == 404
    assert len(crowd.get(f"/contracts/{contract['id']}").json()["reviews"]) == 2
    twice = api.post(f"/contracts/{contract['id']}/review", {"rating": 1, "text": "x"})
    assert twice.json()["error"]["code"] == "already_reviewed"
    assert_money_consistent()


def payer_wallet_of(user: Any) -> Any:
    from trefpunt.ledger.services import wallet_for_user

    return wallet_for_user(user=user)


def test_another_clients_proposals_are_not_found_by_guessed_ids(client: Any) -> None:
    job = open_job()
    proposal = propose(job)
    other_client = Api(client, open_job().created_by)
    rival = Api(client, make_user())
    for api in (other_client, rival):
        assert api.get(f"/proposals/{proposal.pk}").status_code == 404
        assert api.get(f"/projects/{job.pk}/proposals").status_code == 404
        assert api.post(f"/proposals/{proposal.pk}/accept").status_code == 404
        assert api.post(f"/proposals/{proposal.pk}/decline", {"reason": "x"}).status_code == 404


def test_a_dispute_through_the_api(client: Any) -> None:
    contract = hired()
    from .factories import delivered

    delivered(contract)
    api, crowd = Api(client, contract.client), Api(client, contract.freelancer)
    opened = crowd.post(f"/contracts/{contract.pk}/dispute", {"reason": "No answer"})
    assert opened.json()["dispute"]["amount"] == 20_000
    api.post(f"/contracts/{contract.pk}/dispute/propose", {"freelancer_amount": 15_000})
    own = api.post(f"/contracts/{contract.pk}/dispute/accept", {"freelancer_amount": 15_000})
    assert own.json()["error"]["code"] == "own_offer"
    done = crowd.post(f"/contracts/{contract.pk}/dispute/accept", {"freelancer_amount": 15_000})
    assert done.json()["dispute"]["status"] == "resolved"
    assert balance(contract.freelancer) == 13_500
    assert_money_consistent()


def _queries(api: Api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200, response.json()
    return len(captured.captured_queries)


def test_list_endpoints_run_a_constant_number_of_queries(client: Any) -> None:
    freelancer, owner = make_user(), make_user()
    api, crowd = Api(client, owner), Api(client, freelancer)
    jobs = [open_job(owner) for _ in range(2)]
    for job in jobs:
        propose(job, freelancer)
        propose(job)
    hired(owner, freelancer)
    api.get("/projects")  # warm: the tokens' first use is recorded once
    crowd.get("/projects")
    small = {
        p: _queries(a, p)
        for a, p in (
            (crowd, "/projects"),
            (api, f"/projects/{jobs[0].pk}/proposals"),
            (crowd, "/proposals"),
            (crowd, "/contracts"),
        )
    }
    for job in [*jobs, *(open_job(owner) for _ in range(3))]:
        for _ in range(3):
            propose(job)
        if job not in jobs:
            propose(job, freelancer)
    propose(jobs[0], make_user())
    for _ in range(3):
        hired(owner, freelancer)
    large = {
        p: _queries(a, p)
        for a, p in (
            (crowd, "/projects"),
            (api, f"/projects/{jobs[0].pk}/proposals"),
            (crowd, "/proposals"),
            (crowd, "/contracts"),
        )
    }
    assert small == large
