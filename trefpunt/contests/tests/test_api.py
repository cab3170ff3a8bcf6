"""The contests API: shapes, status codes, visibility, idempotency, query counts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from trefpunt.accounts.models import User
from trefpunt.accounts.services import api_token_create
from trefpunt.contests.models import Contest, Entry, Payment
from trefpunt.contests.services import contest_close_entries, contest_invite
from trefpunt.ledger.tests.factories import funded_wallet

from .factories import (
    assert_money_consistent,
    deadline,
    draft,
    enter,
    escrow_of,
    image_bytes,
    make_organisation,
    make_user,
    pdf_bytes,
    png_upload,
    published,
    structured_image,
    wallet_balance,
)

pytestmark = pytest.mark.django_db


def api(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, path: str, data: Any = None, **headers: str) -> Any:
    return client.post(
        f"/api/v1{path}",
        data=json.dumps(data or {}),
        content_type="application/json",
        headers=headers,
    )


def brief(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Name our cargo bike",
        "summary": "A short, friendly name.",
        "category": "naming",
        "prizes": [20000, 5000],
        "entry_deadline": deadline(4).isoformat(),
    }
    data.update(overrides)
    return data


def _judging(contest: Contest) -> None:
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)


def test_contest_create_api_makes_a_draft():
    client = make_user()
    response = post(api(client), "/contests", brief())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert [p["amount"] for p in body["prizes"]] == [20000, 5000]
    assert body["prize_total"] == 25000
    assert Contest.objects.get(pk=body["id"]).created_by == client


@pytest.mark.parametrize("amount", [0, -5])
def test_contest_create_api_refuses_a_prize_of_zero_or_less(amount):
    response = post(api(make_user()), "/contests", brief(prizes=[amount]))
    assert response.status_code == 422
    assert "prize_1" in response.json()["error"]["fields"]
    assert not Contest.objects.exists()


def test_contest_create_api_refuses_a_deadline_in_the_past():
    response = post(api(make_user()), "/contests", brief(entry_deadline=deadline(-1).isoformat()))
    assert response.status_code == 422
    assert "in the past" in response.json()["error"]["fields"]["entry_deadline"][0]


def test_contest_create_api_for_an_organisation_by_slug():
    owner = make_user()
    organisation = make_organisation(owner)
    response = post(api(owner), "/contests", brief(organisation=organisation.slug))
    assert response.json()["organisation"] == organisation.slug
    refused = post(api(make_user()), "/contests", brief(organisation=organisation.slug))
    assert refused.status_code == 422


def test_contest_update_api_changes_a_draft_and_refuses_others_and_published_ones():
    client = make_user()
    contest = draft(client)
    response = api(client).patch(
        f"/api/v1/contests/{contest.pk}",
        data=json.dumps({"title": "Better title"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Better title"
    stranger = api(make_user()).patch(
        f"/api/v1/contests/{contest.pk}",
        data=json.dumps({"title": "Hijack"}),
        content_type="application/json",
    )
    assert stranger.status_code == 404
    live = published(make_user())
    late = api(live.created_by).patch(
        f"/api/v1/contests/{live.pk}",
        data=json.dumps({"title": "Too late"}),
        content_type="application/json",
    )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "wrong_state"


def test_contest_publish_api_with_too_little_money_answers_409_and_moves_nothing():
    client = make_user()
    contest = draft(client)
    funded_wallet(client, 1000)
    response = post(api(client), f"/contests/{contest.pk}/publish")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_funds"
    assert error["fields"]["wallet"]
    assert wallet_balance(client) == 1000
    assert escrow_of(contest) == 0


def test_contest_publish_api_replays_with_the_same_idempotency_key():
    client = make_user()
    contest = draft(client)
    funded_wallet(client, 50000)
    session = api(client)
    first = post(session, f"/contests/{contest.pk}/publish", **{"Idempotency-Key": "pub-1"})
    again = post(session, f"/contests/{contest.pk}/publish", **{"Idempotency-Key": "pub-1"})
    other = post(session, f"/contests/{contest.pk}/publish", **{"Idempotency-Key": "pub-2"})
    assert first.status_code == 200
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 409
    assert wallet_balance(client) == 50000 - 33000
    assert_money_consistent()


def test_contest_publish_api_by_a_stranger_is_404():
    contest = draft(make_user())
    assert post(api(make_user()), f"/contests/{contest.pk}/publish").status_code == 404


def test_contest_list_api_shows_public_contests_only_and_mine_shows_drafts():
    client = make_user()
    public = published(client)
    hidden = draft(client)
    private = draft(client, is_private=True)
    funded_wallet(client, 33000)
    from trefpunt.contests.services import contest_publish

    contest_publish(contest_id=private.pk, user=client)
    ids = [c["id"] for c in api(make_user()).get("/api/v1/contests").json()["items"]]
    assert ids == [public.pk]
    mine = api(client).get("/api/v1/contests?mine=true").json()["items"]
    assert {c["id"] for c in mine} == {public.pk, hidden.pk, private.pk}


def test_contest_list_api_filters_by_category_and_prize():
    client = make_user()
    small = published(client, prizes=[10000], category="slogan")
    big = published(client, prizes=[90000], category="logo")
    session = api(make_user())
    by_category = session.get("/api/v1/contests?category=slogan").json()["items"]
    assert [c["id"] for c in by_category] == [small.pk]
    by_prize = session.get("/api/v1/contests?prize_min=50000").json()["items"]
    assert [c["id"] for c in by_prize] == [big.pk]


def test_contest_list_api_runs_a_constant_number_of_queries(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client = make_user()
    for _ in range(2):
        contest = published(client)
        enter(contest)
    session = api(make_user())
    with django_assert_max_num_queries(7) as few:
        assert len(session.get("/api/v1/contests").json()["items"]) == 2
    # New public contests show at once (their commit moves the search index's generation,
    # which keys the kept pages of the list).
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            contest = published(client, prizes=[30000, 10000])
            enter(contest)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(session.get("/api/v1/contests").json()["items"]) == 7
    # Kept: only the session, its user and the live entry counts are read.
    with django_assert_max_num_queries(3):
        assert len(session.get("/api/v1/contests").json()["items"]) == 7


def test_contest_get_api_private_contest_is_404_for_the_uninvited():
    client = make_user()
    invited = make_user()
    contest = draft(client, is_private=True)
    contest_invite(contest_id=contest.pk, user=client, who=invited.email)
    funded_wallet(client, 33000)
    from trefpunt.contests.services import contest_publish

    contest_publish(contest_id=contest.pk, user=client)
    assert api(make_user()).get(f"/api/v1/contests/{contest.pk}").status_code == 404
    assert api(make_user()).get(f"/api/v1/contests/{contest.pk}/entries").status_code == 404
    assert api(invited).get(f"/api/v1/contests/{contest.pk}").status_code == 200


def test_contest_get_api_hides_money_details_from_non_managers():
    contest = published(make_user())
    body = api(make_user()).get(f"/api/v1/contests/{contest.pk}").json()
    assert body["funded_amount"] is None
    owner_view = api(contest.created_by).get(f"/api/v1/contests/{contest.pk}").json()
    assert owner_view["funded_amount"] == 33000


def test_entry_create_api_accepts_multipart_files():
    contest = published(make_user())
    entrant = make_user()
    response = api(entrant).post(
        f"/api/v1/contests/{contest.pk}/entries",
        data={
            "title": "Spoke",
            "description": "Short and round.",
            "originality_declared": "true",
            "files": [png_upload(3), png_upload(4, "b.png")],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 1
    assert len(body["files"]) == 2
    assert body["files"][0]["original_url"].endswith("/original/")
    assert Entry.objects.get(pk=body["id"]).entrant == entrant


def test_entry_create_api_refuses_a_png_that_is_really_a_script():
    contest = published(make_user())
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api(make_user()).post(
        f"/api/v1/contests/{contest.pk}/entries",
        data={
            "title": "Innocent",
            "originality_declared": "true",
            "files": [SimpleUploadedFile("logo.png", b"<?php system($_GET['c']); ?>")],
        },
    )
    assert response.status_code == 422
    assert "not a PNG" in response.json()["error"]["fields"]["files"][0]
    assert not Entry.objects.exists()


def test_entry_create_api_refuses_a_file_over_the_size_limit(settings):
    settings.MAX_UPLOAD_BYTES = 4000
    contest = published(make_user())
    response = api(make_user()).post(
        f"/api/v1/contests/{contest.pk}/entries",
        data={"title": "Big", "originality_declared": "true", "files": [png_upload(5)]},
    )
    assert response.status_code == 422
    assert "too large" in response.json()["error"]["fields"]["files"][0]
    assert not Entry.objects.exists()


def test_entry_create_api_after_the_deadline_is_409():
    contest = published(make_user())
    with time_machine.travel(contest.entry_deadline + timedelta(seconds=5), tick=False):
        response = api(make_user()).post(
            f"/api/v1/contests/{contest.pk}/entries",
            data={"title": "Late", "originality_declared": "true", "files": [png_upload(6)]},
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "entries_closed"


def test_entry_api_in_a_blind_contest_other_entrants_see_only_their_own():
    contest = published(make_user(), visibility="blind")
    a = enter(contest)
    b = enter(contest)
    session = api(b.entrant)
    listed = session.get(f"/api/v1/contests/{contest.pk}/entries").json()["items"]
    assert [e["id"] for e in listed] == [b.pk]
    assert session.get(f"/api/v1/entries/{a.pk}").status_code == 404
    assert session.get(f"/api/v1/entries/{a.pk}/revisions").status_code == 404
    assert (
        post(session, f"/entries/{a.pk}/report", {"reason": "guessing ids here"}).status_code == 404
    )
    everyone = api(contest.created_by).get(f"/api/v1/contests/{contest.pk}/entries").json()
    assert {e["id"] for e in everyone["items"]} == {a.pk, b.pk}


def test_entry_api_in_an_open_contest_others_see_previews_but_no_originals():
    contest = published(make_user())
    a = enter(contest)
    body = api(make_user()).get(f"/api/v1/entries/{a.pk}").json()
    assert body["files"][0]["preview_url"]
    assert body["files"][0]["original_url"] is None
    assert body["rating"] is None and body["private_note"] is None


def test_entry_list_api_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    client = make_user()
    contest = published(client, max_entries_per_entrant=5)
    for _ in range(2):
        enter(contest)
    session = api(client)
    with django_assert_max_num_queries(12) as few:
        assert session.get(f"/api/v1/contests/{contest.pk}/entries").json()["count"] == 2
    for _ in range(6):
        enter(contest)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert session.get(f"/api/v1/contests/{contest.pk}/entries").json()["count"] == 8


def test_entry_rating_api_and_its_refusals():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    session = api(client)
    ok = post(session, f"/entries/{entry.pk}/rating", {"rating": 4, "feedback": "Nice"})
    assert ok.status_code == 200
    assert (ok.json()["rating"], ok.json()["feedback"]) == (4, "Nice")
    keep = post(session, f"/entries/{entry.pk}/rating", {"note": "shortlist"})
    assert keep.json()["rating"] == 4 and keep.json()["private_note"] == "shortlist"
    seven = post(session, f"/entries/{entry.pk}/rating", {"rating": 7})
    assert seven.status_code == 422
    assert "rating" in seven.json()["error"]["fields"]
    assert post(api(entry.entrant), f"/entries/{entry.pk}/rating", {"rating": 5}).status_code == 404
    entry.refresh_from_db()
    assert entry.rating == 4


def test_entry_decline_finalist_and_withdraw_api():
    client = make_user()
    contest = published(client)
    a = enter(contest)
    b = enter(contest)
    c = enter(contest)
    session = api(client)
    declined = post(session, f"/entries/{a.pk}/decline", {"reason": "Too close to a brand."})
    assert declined.json()["status"] == "declined"
    again = post(session, f"/entries/{a.pk}/decline", {"reason": "Too close to a brand."})
    assert again.status_code == 409
    assert post(session, f"/entries/{b.pk}/finalist", {"finalist": True}).json()["status"] == (
        "finalist"
    )
    assert post(api(c.entrant), f"/entries/{c.pk}/withdraw").json()["status"] == "withdrawn"
    assert post(api(b.entrant), f"/entries/{c.pk}/withdraw").status_code == 404
    entrant_view = api(a.entrant).get(f"/api/v1/entries/{a.pk}").json()
    assert entrant_view["decline_reason"] == "Too close to a brand."


def test_entry_revisions_api_lists_and_adds_versions():
    contest = published(make_user())
    entry = enter(contest)
    session = api(entry.entrant)
    added = session.post(
        f"/api/v1/entries/{entry.pk}/revisions",
        data={"note": "Thicker lines", "files": [png_upload(21)]},
    )
    assert added.status_code == 201, added.content
    assert added.json()["number"] == 2
    versions = session.get(f"/api/v1/entries/{entry.pk}/revisions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert session.get(f"/api/v1/entries/{entry.pk}").json()["version"] == 2


def test_entry_report_api():
    contest = published(make_user())
    entry = enter(contest)
    session = api(make_user())
    first = post(session, f"/entries/{entry.pk}/report", {"reason": "It is on a stock site."})
    assert first.status_code == 201
    assert (
        post(session, f"/entries/{entry.pk}/report", {"reason": "Again, same thing."}).status_code
        == 409
    )


def test_contest_award_api_pays_once_with_an_idempotency_key_and_refuses_wrong_state():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    session = api(client)
    early = post(
        session, f"/contests/{contest.pk}/award", {"awards": [{"prize": 1, "entry": entry.pk}]}
    )
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "entries_open"
    _judging(contest)
    payload = {"awards": [{"prize": 1, "entry": entry.pk}]}
    first = post(session, f"/contests/{contest.pk}/award", payload, **{"Idempotency-Key": "aw-1"})
    again = post(session, f"/contests/{contest.pk}/award", payload, **{"Idempotency-Key": "aw-1"})
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "awarded"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert wallet_balance(entry.entrant) == 28500
    assert_money_consistent()


def test_contest_award_api_by_a_stranger_is_404():
    contest = published(make_user())
    entry = enter(contest)
    _judging(contest)
    response = post(
        api(make_user()),
        f"/contests/{contest.pk}/award",
        {"awards": [{"prize": 1, "entry": entry.pk}]},
    )
    assert response.status_code == 404
    assert escrow_of(contest) == 33000


def test_contest_close_entries_and_cancel_api():
    client = make_user()
    contest = published(client)
    session = api(client)
    assert post(session, f"/contests/{contest.pk}/close-entries").status_code == 409
    cancelled = post(session, f"/contests/{contest.pk}/cancel", **{"Idempotency-Key": "c-1"})
    assert cancelled.json()["status"] == "cancelled"
    assert wallet_balance(client) == 33000
    assert post(session, f"/contests/{contest.pk}/cancel").status_code == 409
    assert_money_consistent()


def test_contests_api_accepts_a_personal_access_token():
    client = make_user()
    _token, raw = api_token_create(user=client, name="script")
    response = Client().post(
        "/api/v1/contests",
        data=json.dumps(brief()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201
    assert Client().get("/api/v1/contests").status_code == 401


def test_entry_create_api_with_a_pdf_and_an_image_with_the_wrong_name():
    from django.core.files.uploadedfile import SimpleUploadedFile

    contest = published(make_user())
    response = api(make_user()).post(
        f"/api/v1/contests/{contest.pk}/entries",
        data={
            "title": "Mixed",
            "originality_declared": "true",
            "files": [
                SimpleUploadedFile("brief.pdf", pdf_bytes()),
                SimpleUploadedFile("photo.png", image_bytes(structured_image(8), "JPEG")),
            ],
        },
    )
    assert response.status_code == 201, response.content
    kinds = [f["kind"] for f in response.json()["files"]]
    assert kinds == ["pdf", "image"]


def test_entry_decline_api_reason_codes_and_bad_input():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    session = api(client)
    short = post(session, f"/entries/{entry.pk}/decline", {"reason": "no"})
    assert short.status_code == 422
    assert "reason" in short.json()["error"]["fields"]
    unknown = post(
        session,
        f"/entries/{entry.pk}/decline",
        {"reason": "Long enough reason.", "reason_code": "x"},
    )
    assert unknown.status_code == 422
    assert "reason_code" in unknown.json()["error"]["fields"]
    missing = post(session, f"/entries/{entry.pk}/decline", {})
    assert missing.status_code == 422
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED
    ok = post(
        session,
        f"/entries/{entry.pk}/decline",
        {"reason": "Copied from a stock site.", "reason_code": "copied"},
    )
    assert ok.status_code == 200
    body = ok.json()
    assert (body["decline_code"], body["decline_review"]) == ("copied", "pending")
    assert body["shares_in_guarantee"] is True
    public = api(make_user()).get(f"/api/v1/entries/{entry.pk}")
    assert public.status_code == 404  # declined entries are shown only to entrant and client


def test_contest_create_api_names_every_bad_field_at_once_and_saves_nothing():
    response = post(
        api(make_user()),
        "/contests",
        brief(
            title="",
            summary="y" * 300,
            category="paint",
            prizes=[100, 200, 300, 400],
            entry_deadline=deadline(-1).isoformat(),
            judging_days=0,
            visibility="secret",
            max_entries_per_entrant=0,
            finalist_stipend=-1,
            finalists_max=11,
            organisation="someone-elses-org",
        ),
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        "title",
        "summary",
        "category",
        "prizes",
        "entry_deadline",
        "judging_days",
        "visibility",
        "max_entries_per_entrant",
        "finalist_stipend",
        "finalists_max",
        "organisation",
    }
    assert not Contest.objects.exists()


def test_entry_create_api_names_every_missing_field_at_once():
    contest = published(make_user())
    response = api(make_user()).post(
        f"/api/v1/contests/{contest.pk}/entries",
        data={"title": "", "originality_declared": "false"},
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"title", "files", "originality_declared"}
    assert not Entry.objects.exists()


def _listed(session: Client) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for c in session.get("/api/v1/contests").json()["items"]}


def test_contest_list_api_keeps_no_managers_figures_for_others():
    """The public part of a listed contest is kept for everyone; what only its managers see
    (and may do) is the viewer's own, whoever asked first."""
    client, member = make_user(), make_user()
    contest = published(client, prizes=[30000])
    manager_first = _listed(api(client))[contest.pk]
    assert manager_first["funded_amount"] == contest.funded_amount > 0
    assert manager_first["can"]["cancel"] is True
    assert manager_first["can"]["enter"] is False
    member_view = _listed(api(member))[contest.pk]
    assert (member_view["funded_amount"], member_view["client_fee"]) == (None, None)
    assert member_view["can"]["cancel"] is False
    assert member_view["can"]["enter"] is True
    assert _listed(api(client))[contest.pk]["funded_amount"] == contest.funded_amount


def test_contest_list_api_shows_entry_counts_and_the_entry_limit_at_once():
    """Entries are not kept: a new one counts at once, also without the index moving."""
    client, member = make_user(), make_user()
    contest = published(client, max_entries_per_entrant=1)
    session = api(member)
    before = _listed(session)[contest.pk]
    assert (before["entry_count"], before["can"]["enter"]) == (0, True)
    enter(contest, member)
    after = _listed(session)[contest.pk]
    assert (after["entry_count"], after["can"]["enter"]) == (1, False)


def test_contest_list_api_shows_no_private_contest_or_draft_a_kept_page_names():
    """The ids of a kept page are checked again when their rows are read: a contest that
    went private or a draft is never shown from them, to anyone but its managers."""
    from trefpunt.contests.api import _public_contests_out

    client, invited = make_user(), make_user()
    shown = published(client)
    private = published(client, is_private=True)
    Contest.objects.filter(pk=private.pk).update(is_private=True)
    unpublished = draft(client)
    ids = [shown.pk, private.pk, unpublished.pk]
    for viewer in (None, invited, client):
        assert [c["id"] for c in _public_contests_out(viewer, ids)] == [shown.pk]
