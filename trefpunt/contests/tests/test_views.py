"""Pages: rendering, visibility, file serving, htmx fragments, query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from trefpunt.accounts.models import User
from trefpunt.contests.models import Contest, Entry, EntryFile
from trefpunt.contests.services import (
    contest_award,
    contest_close_entries,
    contest_invite,
    contest_publish,
    entry_decline,
    entry_rate,
)
from trefpunt.ledger.models import Deposit
from trefpunt.ledger.tests.factories import funded_wallet

from .factories import draft, enter, make_user, png_upload, published, wallet_balance

pytestmark = pytest.mark.django_db


def browser(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def first_file(entry: Entry) -> EntryFile:
    return EntryFile.objects.filter(version__entry=entry).order_by("pk")[0]


def read(field_file: Any) -> bytes:
    with field_file.storage.open(field_file.name, "rb") as handle:
        return bytes(handle.read())


def file_url(entry: Entry, variant: str) -> str:
    return reverse("contests:file", kwargs={"pk": first_file(entry).pk, "variant": variant})


def private_contest(client: User, invited: User) -> Contest:
    contest = draft(client, is_private=True, title="Secret rebrand")
    contest_invite(contest_id=contest.pk, user=client, who=invited.email)
    funded_wallet(client, 33000)
    return contest_publish(contest_id=contest.pk, user=client)


def test_contest_list_view_shows_public_contests_with_filters():
    client = make_user()
    logo = published(client, title="Bakery logo", category="logo")
    published(client, title="Bike name", category="naming")
    response = browser().get("/en/contests/?category=logo")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Bakery logo" in content
    assert "Bike name" not in content
    assert logo.get_absolute_url() in content


def test_contest_list_view_never_shows_drafts_or_private_contests():
    client = make_user()
    invited = make_user()
    draft(client, title="Unpublished draft")
    private_contest(client, invited)
    for viewer in (None, invited, client):
        content = browser(viewer).get("/en/contests/").content.decode()
        assert "Unpublished draft" not in content
        assert "Secret rebrand" not in content
    search = browser(invited).get("/en/contests/?q=Secret").content.decode()
    assert "Secret rebrand" not in search


def test_contest_list_view_says_at_least_when_the_count_is_capped(monkeypatch):
    client = make_user()
    for title in ("First logo", "Second logo", "Third logo"):
        published(client, title=title)
    assert "3 contests" in browser().get("/en/contests/").content.decode()
    monkeypatch.setattr("trefpunt.core.pagination.LIST_MAX_ROWS", 2)
    # Another address: the first one's results are kept for a little while.
    content = browser().get("/en/contests/?page=1").content.decode()
    assert "At least 2 contests" in content
    assert "3 contests" not in content


def test_contest_list_view_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    client = make_user()
    contest = published(client)
    enter(contest)
    viewer = browser(make_user())
    with django_assert_max_num_queries(12) as few:
        assert viewer.get("/en/contests/").status_code == 200
    for _ in range(6):
        contest = published(client, prizes=[20000, 10000])
        enter(contest)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert viewer.get("/en/contests/").status_code == 200


def test_contest_detail_view_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    client = make_user()
    contest = published(client, max_entries_per_entrant=10)
    enter(contest)
    url = contest.get_absolute_url()
    for viewer in (browser(make_user()), browser(client)):
        # Both requests as a first visit: the entry tiles not in the cache yet (their files
        # are loaded only then).
        cache.clear()
        with django_assert_max_num_queries(30) as few:
            assert viewer.get(url).status_code == 200
        baseline = len(few.captured_queries)
        for _ in range(4):
            enter(contest)
        cache.clear()
        with django_assert_max_num_queries(baseline):
            assert viewer.get(url).status_code == 200


def test_judge_view_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    client = make_user()
    contest = published(client)
    enter(contest)
    session = browser(client)
    url = reverse("contests:judge", kwargs={"pk": contest.pk})
    with django_assert_max_num_queries(30) as few:
        assert session.get(url).status_code == 200
    for _ in range(5):
        entry = enter(contest)
        entry_rate(entry_id=entry.pk, user=client, rating=3, feedback="ok")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert session.get(url).status_code == 200


def test_contest_detail_view_renders_markdown_safely():
    contest = published(
        make_user(),
        description="**Bold** and <script>alert(1)</script> [x](javascript:alert(2))",
    )
    content = browser().get(contest.get_absolute_url()).content.decode()
    assert "<strong>Bold</strong>" in content
    assert "<script>alert(1)" not in content
    assert "javascript:alert" not in content


def test_contest_detail_view_escapes_user_text():
    contest = published(make_user(), title="<img src=x onerror=alert(1)>")
    content = browser().get(contest.get_absolute_url()).content.decode()
    assert "<img src=x onerror" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


def test_contest_detail_view_of_a_draft_is_404_for_others():
    contest = draft(make_user())
    assert browser(make_user()).get(contest.get_absolute_url()).status_code == 404
    assert browser().get(contest.get_absolute_url()).status_code == 404
    assert browser(contest.created_by).get(contest.get_absolute_url()).status_code == 200


def test_private_contest_is_404_everywhere_for_the_uninvited():
    client = make_user()
    invited = make_user()
    contest = private_contest(client, invited)
    entry = enter(contest, invited)
    stranger = browser(make_user())
    pk = contest.pk
    for url in (
        contest.get_absolute_url(),
        reverse("contests:judge", kwargs={"pk": pk}),
        reverse("contests:award", kwargs={"pk": pk}),
        reverse("contests:publish", kwargs={"pk": pk}),
        entry.get_absolute_url(),
        file_url(entry, "thumb"),
        file_url(entry, "preview"),
        file_url(entry, "original"),
        f"/api/v1/contests/{pk}",
        f"/api/v1/entries/{entry.pk}",
    ):
        assert stranger.get(url).status_code == 404, url
    assert browser().get(contest.get_absolute_url()).status_code == 404
    assert browser(invited).get(contest.get_absolute_url()).status_code == 200


def test_blind_contest_other_entrant_cannot_reach_an_entry_by_page_or_file():
    contest = published(make_user(), visibility="blind")
    a = enter(contest, title="Alpha mark")
    b = enter(contest, title="Beta mark")
    other = browser(b.entrant)
    page = other.get(contest.get_absolute_url()).content.decode()
    assert "Beta mark" in page
    assert "Alpha mark" not in page
    assert other.get(a.get_absolute_url()).status_code == 404
    for variant in ("thumb", "preview", "original"):
        assert other.get(file_url(a, variant)).status_code == 404
    assert browser().get(file_url(a, "thumb")).status_code == 404
    assert browser(a.entrant).get(file_url(a, "original")).status_code == 200


def test_entry_file_view_gives_originals_only_to_entrant_and_client():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    stored = first_file(entry)
    public = browser(make_user())
    assert public.get(file_url(entry, "original")).status_code == 404
    preview = public.get(file_url(entry, "preview"))
    assert preview.status_code == 200
    assert preview["Content-Type"] == "image/webp"
    assert b"".join(preview.streaming_content) == read(stored.preview)  # type: ignore[attr-defined]
    assert "Cookie" in preview["Vary"]
    assert preview["Cache-Control"].startswith("private")
    thumb = public.get(file_url(entry, "thumb"))
    assert b"".join(thumb.streaming_content) == read(stored.thumb_public)  # type: ignore[attr-defined]
    for insider in (client, entry.entrant):
        original = browser(insider).get(file_url(entry, "original"))
        assert original.status_code == 200
        assert original["Content-Disposition"].startswith("attachment;")
        assert "design.png" in original["Content-Disposition"]
        own_thumb = browser(insider).get(file_url(entry, "thumb"))
        assert b"".join(own_thumb.streaming_content) == read(stored.thumb)  # type: ignore[attr-defined]
        # Shown inline: a clean downscaled preview, never the (up to 20 MB) original.
        own_preview = browser(insider).get(file_url(entry, "preview"))
        assert own_preview["Content-Type"] == "image/webp"
        assert own_preview["Content-Disposition"].startswith("inline;")
        assert b"".join(own_preview.streaming_content) == read(stored.preview_clean)  # type: ignore[attr-defined]
    assert public.get(file_url(entry, "whatever")).status_code == 404


def test_entry_detail_view_shows_flags_side_by_side_to_the_client_only():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .factories import image_bytes, near_copy, structured_image

    client = make_user()
    contest = published(client)
    original = structured_image(77)
    first = enter(contest, files=[SimpleUploadedFile("a.png", image_bytes(original))])
    copied = enter(
        contest, files=[SimpleUploadedFile("b.jpg", image_bytes(near_copy(original), "JPEG"))]
    )
    page = browser(client).get(copied.get_absolute_url()).content.decode()
    assert "Originality flags" in page
    assert "Looks like entry #1" in page
    assert file_url(first, "thumb") in page
    assert file_url(copied, "thumb") in page
    for other in (copied.entrant, first.entrant, make_user()):
        content = browser(other).get(copied.get_absolute_url()).content.decode()
        assert "Originality flags" not in content


def test_entry_create_view_without_javascript():
    contest = published(make_user())
    entrant = make_user()
    response = browser(entrant).post(
        reverse("contests:enter", kwargs={"pk": contest.pk}),
        {"title": "Loaf", "originality_declared": "on", "files": [png_upload(9)]},
    )
    entry = Entry.objects.get(entrant=entrant)
    assert response.status_code == 302
    assert response["Location"] == entry.get_absolute_url()


def test_entry_create_view_shows_errors_next_to_the_fields_and_saves_nothing():
    contest = published(make_user())
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = browser(make_user()).post(
        reverse("contests:enter", kwargs={"pk": contest.pk}),
        {"title": "", "files": [SimpleUploadedFile("x.png", b"#!/bin/sh\necho")]},
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "This field is required." in content
    assert "x.png is not a PNG" in content
    assert "Declare that the entry is your own original work" in content
    assert not Entry.objects.exists()


def _brief_form(**overrides: str) -> dict[str, str]:
    from django.utils import timezone

    data = {
        "title": "Poster for a festival",
        "summary": "A2, bold, readable from afar.",
        "category": "illustration",
        "prize_1": "250",
        "prize_2": "75,50",
        "entry_deadline": (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "judging_days": "7",
        "visibility": "open",
        "max_entries_per_entrant": "3",
        "finalists_max": "3",
    }
    data.update(overrides)
    return data


def test_contest_create_view_makes_a_draft_in_euros():
    client = make_user()
    response = browser(client).post(reverse("contests:create"), _brief_form())
    contest = Contest.objects.get(created_by=client)
    assert response.status_code == 302
    assert response["Location"] == contest.get_absolute_url()
    assert [p.amount for p in contest.prizes.all()] == [25000, 7550]
    assert contest.status == Contest.Status.DRAFT


def test_contest_create_view_refuses_a_deadline_too_far_ahead():
    response = browser(make_user()).post(
        reverse("contests:create"), _brief_form(entry_deadline="2099-01-01T12:00")
    )
    assert response.status_code == 422
    assert 'id="id_entry_deadline_error">The entry deadline can be at most 90 days' in (
        response.content.decode()
    )
    assert not Contest.objects.exists()


def test_contest_create_view_refuses_negative_prizes_next_to_the_field():
    response = browser(make_user()).post(reverse("contests:create"), _brief_form(prize_1="-5"))
    assert response.status_code == 422
    assert 'id="id_prize_1_error">Prize 1 must be between' in response.content.decode()
    assert not Contest.objects.exists()


def test_contest_create_view_names_every_bad_field_at_once():
    response = browser(make_user()).post(
        reverse("contests:create"),
        _brief_form(
            title="x" * 121,
            summary="",
            prize_1="0",
            prize_2="abc",
            entry_deadline="",
            judging_days="0",
            visibility="secret",
            max_entries_per_entrant="50",
            finalist_stipend="-3",
        ),
    )
    assert response.status_code == 422
    html = response.content.decode()
    for field in (
        "title",
        "summary",
        "prize_1",
        "prize_2",
        "entry_deadline",
        "judging_days",
        "visibility",
        "max_entries_per_entrant",
        "finalist_stipend",
    ):
        assert f'id="id_{field}_error"' in html, field
    assert "Correct the 9 fields marked below" in html
    assert not Contest.objects.exists()


def test_contest_edit_view_shows_service_errors_next_to_the_fields_and_keeps_the_draft():
    client = make_user()
    contest = draft(client, title="Original title")
    url = reverse("contests:edit", kwargs={"pk": contest.pk})
    response = browser(client).post(
        url, _brief_form(title="New title", prize_1="100", prize_2="200")
    )
    assert response.status_code == 422
    assert 'id="id_prize_2_error">Prize 2 cannot be larger than prize 1.' in (
        response.content.decode()
    )
    contest.refresh_from_db()
    assert contest.title == "Original title"
    assert [p.amount for p in contest.prizes.all()] == [30000]


def test_contest_publish_view_offers_the_shortfall_deposit_and_redirects_to_checkout():
    client = make_user()
    contest = draft(client)
    funded_wallet(client, 10000)
    session = browser(client)
    url = reverse("contests:publish", kwargs={"pk": contest.pk})
    page = session.get(url).content.decode()
    assert "Deposit €\xa0230.00" in page or "Deposit € 230.00" in page
    response = session.post(url, {"action": "deposit"})
    deposit = Deposit.objects.get(created_by=client, status=Deposit.Status.PENDING)
    assert deposit.amount == 23000
    assert deposit.return_path == url
    assert response.status_code == 302
    assert response["Location"] == deposit.checkout_url
    # Publishing now still fails cleanly: the deposit is not paid yet.
    failed = session.post(url, {"action": "publish"}, follow=True)
    assert "Deposit" in failed.content.decode()
    contest.refresh_from_db()
    assert contest.status == Contest.Status.DRAFT


def test_contest_publish_view_publishes_when_the_wallet_holds_enough():
    client = make_user()
    contest = draft(client)
    funded_wallet(client, 40000)
    response = browser(client).post(
        reverse("contests:publish", kwargs={"pk": contest.pk}), {"action": "publish"}
    )
    assert response.status_code == 302
    contest.refresh_from_db()
    assert contest.status == Contest.Status.OPEN
    assert wallet_balance(client) == 7000


def test_entry_rate_view_answers_htmx_with_the_card_and_plain_post_with_a_redirect():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    session = browser(client)
    url = reverse("contests:entry_rate", kwargs={"pk": entry.pk})
    fragment = session.post(url, {"rating": "4"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert html.strip().startswith("<article")
    assert f'id="entry-{entry.pk}"' in html
    assert "<html" not in html
    judge = reverse("contests:judge", kwargs={"pk": contest.pk})
    plain = session.post(url, {"rating": "5", "next": judge + "?show=unrated"})
    assert plain.status_code == 302
    assert plain["Location"] == judge + f"?show=unrated#entry-{entry.pk}"
    assert f"Entry #{entry.number} saved." in session.get(plain["Location"]).content.decode()
    entry.refresh_from_db()
    assert entry.rating == 5
    bad = session.post(url, {"rating": "7"}, headers={"HX-Request": "true"})
    assert "Rate from 1 to 5 stars." in bad.content.decode()
    entry.refresh_from_db()
    assert entry.rating == 5
    assert browser(make_user()).post(url, {"rating": "1"}).status_code == 404


def test_judge_view_filters_unrated_flagged_and_finalists():
    client = make_user()
    contest = published(client)
    rated = enter(contest, title="Rated one")
    enter(contest, title="Fresh one")
    entry_rate(entry_id=rated.pk, user=client, rating=5)
    session = browser(client)
    url = reverse("contests:judge", kwargs={"pk": contest.pk})
    unrated = session.get(url + "?show=unrated").content.decode()
    assert "Fresh one" in unrated and "Rated one" not in unrated
    top = session.get(url + "?rated_min=4").content.decode()
    assert "Rated one" in top and "Fresh one" not in top
    assert browser(rated.entrant).get(url).status_code == 404


def test_entry_decline_view_plain_post():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    session = browser(client)
    response = session.post(
        reverse("contests:entry_decline", kwargs={"pk": entry.pk}),
        {"reason": "Not a logo but a photo."},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/judge/#entry-{entry.pk}")
    followed = session.get(response["Location"]).content.decode()
    assert "declined; the entrant is told your reason." in followed
    entry.refresh_from_db()
    assert entry.status == Entry.Status.DECLINED


def test_award_view_pays_and_refuses_a_declined_entry():
    client = make_user()
    contest = published(client)
    good = enter(contest)
    bad = enter(contest)
    entry_decline(entry_id=bad.pk, user=client, reason="Traced from a stock icon.")
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    session = browser(client)
    url = reverse("contests:award", kwargs={"pk": contest.pk})
    page = session.get(url).content.decode()
    assert f'value="{good.pk}"' in page
    assert f'value="{bad.pk}"' not in page
    refused = session.post(url, {"prize_1": str(bad.pk)})
    assert refused.status_code == 422
    assert "declined" in refused.content.decode()
    # The choice alone only shows the confirm step: who gets what, nothing paid yet.
    confirm = session.post(url, {"prize_1": str(good.pk)})
    assert confirm.status_code == 200
    assert 'name="confirm" value="yes"' in confirm.content.decode()
    assert "285.00" in confirm.content.decode()
    assert wallet_balance(good.entrant) == 0
    assert session.post(url, {"prize_1": str(good.pk), "confirm": "yes"}).status_code == 302
    assert wallet_balance(good.entrant) == 28500


def test_dashboards_render_for_client_and_entrant(django_assert_max_num_queries):
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    entry_rate(entry_id=entry.pk, user=client, rating=4, feedback="Strong idea, try navy.")
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    client_page = browser(client).get(reverse("contests:client_dashboard")).content.decode()
    assert contest.title in client_page
    entrant_page = (
        browser(entry.entrant).get(reverse("contests:entrant_dashboard")).content.decode()
    )
    assert "Strong idea, try navy." in entrant_page
    assert "285.00" in entrant_page
    assert "Hand over your final files" in entrant_page


def test_handover_pages_walk_from_delivery_to_rights_transfer():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from trefpunt.contests.tests.factories import pdf_bytes

    client = make_user()
    contest = published(client)
    entry = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    url = reverse("contests:handover", kwargs={"pk": entry.pk})
    assert browser(make_user()).get(url).status_code == 404
    winner = browser(entry.entrant)
    delivered = winner.post(url, {"files": [SimpleUploadedFile("final.pdf", pdf_bytes())]})
    assert delivered.status_code == 302
    page = browser(client).get(url).content.decode()
    assert "final.pdf" in page and "Confirm receipt" in page
    confirm = browser(client).post(reverse("contests:handover_confirm", kwargs={"pk": entry.pk}))
    assert confirm.status_code == 302
    done = browser(client).get(url).content.decode()
    assert "Rights transfer" in done
    contest.refresh_from_db()
    assert contest.status == Contest.Status.COMPLETED


def test_staff_flags_view_is_for_staff_only():
    assert browser(make_user()).get(reverse("contests:staff_flags")).status_code == 404
    assert browser(make_user(is_staff=True)).get(reverse("contests:staff_flags")).status_code == 200


def test_nav_has_a_contests_link():
    content = browser().get("/en/contests/").content.decode()
    assert 'href="/en/contests/" aria-current=page' in content


def test_dashboards_run_a_constant_number_of_queries(django_assert_max_num_queries):
    client = make_user()
    entrant = make_user()
    contest = published(client, max_entries_per_entrant=10)
    enter(contest, entrant)
    client_session, entrant_session = browser(client), browser(entrant)
    client_url = reverse("contests:client_dashboard")
    entrant_url = reverse("contests:entrant_dashboard")
    with django_assert_max_num_queries(20) as client_few:
        assert client_session.get(client_url).status_code == 200
    with django_assert_max_num_queries(20) as entrant_few:
        assert entrant_session.get(entrant_url).status_code == 200
    for _ in range(3):
        more = published(client)
        enter(more, entrant)
        enter(more)
    with django_assert_max_num_queries(len(client_few.captured_queries)):
        assert client_session.get(client_url).status_code == 200
    with django_assert_max_num_queries(len(entrant_few.captured_queries)):
        assert entrant_session.get(entrant_url).status_code == 200


def test_entry_decline_view_htmx_puts_the_error_next_to_the_reason_and_keeps_the_text():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    url = reverse("contests:entry_decline", kwargs={"pk": entry.pk})
    fragment = browser(client).post(
        url, {"reason": "meh", "reason_code": "copied"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert f'<small class="field-error" id="reason-{entry.pk}-error">Tell the entrant why' in html
    assert f'aria-describedby="reason-{entry.pk}-error">meh</textarea>' in html
    assert 'name="reason_code" value="copied" checked>' in html
    assert "<details open>" in html
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED


def test_entry_decline_view_without_javascript_shows_the_error_on_a_page_and_saves_nothing():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    judge = reverse("contests:judge", kwargs={"pk": contest.pk})
    response = browser(client).post(
        reverse("contests:entry_decline", kwargs={"pk": entry.pk}),
        {"reason": "A long enough reason.", "reason_code": "ugly", "next": judge},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert f'id="reason-code-{entry.pk}-error">Choose why you decline' in html
    assert "A long enough reason.</textarea>" in html
    assert f'href="{judge}">← Back to all entries' in html
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED
    assert entry.decline_reason == ""


def test_entry_rate_view_refuses_too_long_feedback_next_to_the_field():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    url = reverse("contests:entry_rate", kwargs={"pk": entry.pk})
    response = browser(client).post(url, {"note": "keep", "feedback": "x" * 2001})
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="feedback-{entry.pk}-error">At most 2000 characters.' in html
    assert f'aria-describedby="note-{entry.pk}-error"' not in html
    entry.refresh_from_db()
    assert (entry.private_note, entry.feedback) == ("", "")


def test_entry_rate_view_on_an_entry_withdrawn_meanwhile_says_so_instead_of_failing():
    from trefpunt.contests.services import entry_withdraw

    client = make_user()
    contest = published(client)
    entry = enter(contest)
    entry_withdraw(entry_id=entry.pk, user=entry.entrant)
    url = reverse("contests:entry_rate", kwargs={"pk": entry.pk})
    fragment = browser(client).post(url, {"rating": "3"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "was withdrawn by its entrant" in fragment.content.decode()
    assert (
        browser(make_user()).post(url, {"rating": "3"}, headers={"HX-Request": "true"}).status_code
        == 404
    )


def test_staff_flags_view_reviews_a_rule_break_decline():
    client = make_user()
    staff = make_user(is_staff=True)
    contest = published(client)
    entry = enter(contest, title="Swoosh logo")
    entry_decline(
        entry_id=entry.pk, user=client, reason="Uses a sports brand's mark.", reason_code="rules"
    )
    session = browser(staff)
    url = reverse("contests:staff_flags")
    page = session.get(url).content.decode()
    assert "Declines to review" in page and "Swoosh logo" in page
    response = session.post(url, {"entry": str(entry.pk), "decision": "uphold"}, follow=True)
    assert "Decline upheld" in response.content.decode()
    entry.refresh_from_db()
    assert entry.decline_review == Entry.DeclineReview.UPHELD
    assert "Swoosh logo" not in session.get(url).content.decode()
    assert (
        browser(client).post(url, {"entry": str(entry.pk), "decision": "overturn"}).status_code
        == 404
    )


def test_contest_detail_view_explains_how_the_guarantee_works():
    contest = published(make_user(), judging_days=5)
    html = browser().get(contest.get_absolute_url()).content.decode()
    assert "How the guarantee works" in html
    assert "the client has 5 days to choose the winners" in html
    assert "declined entries too" in html


def test_contest_list_view_keeps_the_valid_filters_when_one_is_wrong():
    client = make_user()
    published(client, title="Bakery logo", category="logo")
    published(client, title="Bike name", category="naming")
    response = browser().get("/en/contests/?category=logo&prize_min=abc")
    html = response.content.decode()
    assert "Bakery logo" in html and "Bike name" not in html
    assert 'id="id_prize_min_error">Enter a whole number.' in html
    low_high = browser().get("/en/contests/?prize_min=500&prize_max=100").content.decode()
    assert 'id="id_prize_max_error">Enter an amount of at least 500.' in low_high


def test_contest_list_view_shows_open_contests_first_soonest_deadline_first():
    client = make_user()
    now = timezone.now()
    published(client, title="Closes sooner", entry_deadline=now + timedelta(days=2))
    published(client, title="Closes later", entry_deadline=now + timedelta(days=9))
    decided = published(client, title="Decided one")  # published last: newest
    entry = enter(decided)
    with time_machine.travel(decided.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=decided.pk)
    contest_award(contest_id=decided.pk, user=client, awards={1: entry.pk})
    html = browser().get("/en/contests/").content.decode()
    positions = [html.index(title) for title in ("Closes sooner", "Closes later", "Decided one")]
    assert positions == sorted(positions)


def test_contest_detail_view_tells_the_entrant_how_many_entries_are_left():
    contest = published(make_user(), max_entries_per_entrant=2)
    entrant = make_user()
    enter(contest, entrant, seed=1)
    session = browser(entrant)
    html = session.get(contest.get_absolute_url()).content.decode()
    assert "You have 1 of 2 entries in." in html
    assert 'id="enter"' in html
    enter(contest, entrant, seed=2)
    html = session.get(contest.get_absolute_url()).content.decode()
    assert "You have 2 of 2 entries in." in html
    assert "That is the most this contest allows." in html
    assert 'id="enter"' not in html
    visitor = browser().get(contest.get_absolute_url()).content.decode()
    assert f"/en/accounts/login/?next=/en/contests/{contest.pk}/" in visitor
    assert 'id="enter"' not in visitor


def test_entry_revise_view_shows_a_bad_file_next_to_the_field_and_keeps_the_version():
    from django.core.files.uploadedfile import SimpleUploadedFile

    contest = published(make_user())
    entry = enter(contest)
    response = browser(entry.entrant).post(
        reverse("contests:entry_revise", kwargs={"pk": entry.pk}),
        {"files": [SimpleUploadedFile("v2.png", b"<script>alert(1)</script>")], "note": "v2"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_files_error">v2.png is not a PNG' in html
    assert '<details id="revise" open>' in html
    assert entry.versions.count() == 1


def test_entry_report_view_shows_a_short_reason_next_to_the_field_and_saves_nothing():
    contest = published(make_user())
    entry = enter(contest)
    session = browser(make_user())
    url = reverse("contests:entry_report", kwargs={"pk": entry.pk})
    response = session.post(url, {"reason": "copy"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_reason_error">Say where it was copied from, in at least 10 characters.' in html
    assert '<details id="report" open>' in html
    assert not entry.flags.exists()
    assert (
        session.post(url, {"reason": "Same as the logo on dribbble.com/shots/1"}).status_code == 302
    )
    assert entry.flags.count() == 1


def test_finalist_round_view_shows_a_bad_deadline_next_to_the_field():
    from trefpunt.contests.services import entry_finalist_set

    client = make_user()
    contest = published(client)
    entry = enter(contest)
    entry_finalist_set(entry_id=entry.pk, user=client, finalist=True)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
        url = reverse("contests:finalist_round", kwargs={"pk": contest.pk})
        session = browser(client)
        too_late = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
        response = session.post(url, {"deadline": too_late})
        assert response.status_code == 422
        html = response.content.decode()
        assert 'id="id_deadline_error">The finalist round must end before judging ends.' in html
        assert (
            '<details class="finalist-round card contest-finalist-round" id="finalist-round" open>'
            in html
        )
        assert session.post(url, {"deadline": "soon"}).status_code == 422
        assert browser(make_user()).post(url, {"deadline": too_late}).status_code == 404
    contest.refresh_from_db()
    assert contest.finalist_deadline is None


def test_attachment_and_invite_errors_show_next_to_their_fields_on_the_edit_page():
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = make_user()
    contest = draft(client, is_private=True)
    session = browser(client)
    bad_file = session.post(
        reverse("contests:attachment_add", kwargs={"pk": contest.pk}),
        {"file": SimpleUploadedFile("brief.pdf", b"MZ\x90\x00 an exe")},
    )
    assert bad_file.status_code == 422
    assert 'id="id_file_error">brief.pdf is not a PNG' in bad_file.content.decode()
    no_file = session.post(reverse("contests:attachment_add", kwargs={"pk": contest.pk}), {})
    assert 'id="id_file_error">Choose a file to upload.' in no_file.content.decode()
    unknown = session.post(
        reverse("contests:invite", kwargs={"pk": contest.pk}), {"who": "nobody-at-all"}
    )
    assert unknown.status_code == 422
    assert 'id="id_who_error">No member with this handle; enter their email address' in (
        unknown.content.decode()
    )
    assert not contest.attachments.exists() and not contest.invitations.exists()


def test_contest_edit_view_of_an_open_private_contest_invites_but_keeps_the_brief(
    django_capture_on_commit_callbacks,
):
    from django.core import mail

    client = make_user()
    contest = private_contest(client, make_user())
    session = browser(client)
    url = reverse("contests:edit", kwargs={"pk": contest.pk})
    page = session.get(url).content.decode()
    assert "Reference files and invitations" in page
    assert 'name="title"' not in page
    late = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        invited = session.post(
            reverse("contests:invite", kwargs={"pk": contest.pk}), {"who": late.email}
        )
    assert invited.status_code == 302
    assert mail.outbox[-1].to == [late.email]
    assert browser(late).get(contest.get_absolute_url()).status_code == 200
    session.post(url, _brief_form(title="Changed after publishing"))
    contest.refresh_from_db()
    assert contest.title == "Secret rebrand"


def test_client_dashboard_figures_count_a_pages_entries_in_one_query(django_assert_num_queries):
    from trefpunt.contests.selectors import client_dashboard, client_dashboard_figures
    from trefpunt.contests.services import entry_withdraw

    client = make_user()
    busy, quiet = published(client), published(client)
    rated, flagged, withdrawn = enter(busy), enter(busy), enter(busy)
    entry_rate(entry_id=rated.pk, user=client, rating=4)
    # A withdrawn entry counts in none of the figures, flagged or not.
    Entry.objects.filter(pk__in=[flagged.pk, withdrawn.pk]).update(is_flagged=True)
    entry_withdraw(entry_id=withdrawn.pk, user=withdrawn.entrant)
    ids = list(client_dashboard(user=client).values_list("pk", flat=True))
    with django_assert_num_queries(1):
        figures = client_dashboard_figures(ids)
    assert figures == {busy.pk: (2, 1, 1), quiet.pk: (0, 0, 0)}
    page = browser(client).get(reverse("contests:client_dashboard")).content.decode()
    assert (
        f'href="/en/contests/{busy.pk}/judge/?show=flagged" class="badge badge-warn">1 flagged'
        in page
    )
