"""Pages: they render in both languages, basic flows work without JavaScript, htmx gets
fragments, and list pages run a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.ideas import services
from trefpunt.ideas.forms import InviteForm, StageMoveForm
from trefpunt.ideas.models import Comment, Idea, IdeaCall, RewardPayment, StageChange, Vote

from .factories import draft_call, later, make_user, open_call, post, stage

pytestmark = pytest.mark.django_db


def test_call_list_and_pages_render_in_english_and_dutch(client) -> None:
    owner = make_user()
    call = open_call(owner, rewards=1)
    idea = post(call)
    services.comment_create(idea_id=idea.pk, user=make_user(), body="Good one")
    client.force_login(owner)
    for lang, word in (("en", "Idea calls"), ("nl", "Ideeënoproepen")):
        assert word in client.get(f"/{lang}/ideas/").content.decode()
        for url in (
            f"/{lang}/ideas/calls/{call.pk}/",
            f"/{lang}/ideas/{idea.pk}/",
            f"/{lang}/ideas/dashboard/",
            f"/{lang}/ideas/mine/",
            f"/{lang}/ideas/calls/{call.pk}/edit/",
            f"/{lang}/ideas/new/",
        ):
            response = client.get(url)
            assert response.status_code == 200, url


def test_create_a_call_through_the_form(client) -> None:
    owner = make_user()
    client.force_login(owner)
    response = client.post(
        "/en/ideas/new/",
        {
            "title": "Greener office",
            "question": "How do we use less energy?",
            "audience": "public",
            "submission_deadline": later(3).strftime("%Y-%m-%dT%H:%M"),
            "voting_deadline": later(6).strftime("%Y-%m-%dT%H:%M"),
            "voting_mode": "up",
            "budget_points": "10",
            "reward_amount": "50,00",
            "reward_count": "2",
            "tags": "Energy, Travel",
        },
    )
    call = IdeaCall.objects.get(title="Greener office")
    assert response.status_code == 302
    assert (call.reward_amount, call.reward_count) == (5000, 2)


def test_vote_without_javascript_redirects_and_with_htmx_returns_the_box(client) -> None:
    call = open_call(make_user())
    idea = post(call)
    client.force_login(make_user())

    plain = client.post(f"/en/ideas/{idea.pk}/vote/")
    assert plain.status_code == 302
    fragment = client.post(
        f"/en/ideas/{idea.pk}/vote/", {"action": "unvote"}, HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200
    assert f'id="vote-{idea.pk}"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert not Vote.objects.filter(idea=idea).exists()


def test_vote_with_points_out_of_budget_says_how_many_points_may_be_given(client) -> None:
    call = open_call(make_user(), voting_mode=IdeaCall.VotingMode.BUDGET, budget_points=10)
    idea = post(call)
    client.force_login(make_user())
    generic = str(ValidationFailed.default_message)

    plain = client.post(f"/en/ideas/{idea.pk}/vote/", {"points": "50"}, follow=True)
    fragment = client.post(
        f"/en/ideas/{idea.pk}/vote/", {"points": "abc"}, HTTP_HX_REQUEST="true"
    ).content.decode()

    shown = [str(m) for m in plain.context["messages"]]
    assert len(shown) == 1 and generic not in shown[0] and "10" in shown[0]
    assert generic not in fragment and "10 points" in fragment
    assert not Vote.objects.filter(idea=idea).exists()


def test_unvote_without_javascript_says_the_vote_is_taken_back(client) -> None:
    call = open_call(make_user())
    idea = post(call)
    client.force_login(make_user())
    client.post(f"/en/ideas/{idea.pk}/vote/", follow=True)

    taken_back = client.post(f"/en/ideas/{idea.pk}/vote/", {"action": "unvote"}, follow=True)
    again = client.post(f"/en/ideas/{idea.pk}/vote/", {"action": "unvote"}, follow=True)

    saved = gettext("Your vote is saved.")
    assert [str(m) for m in taken_back.context["messages"]] == [gettext("Your vote is taken back.")]
    assert saved not in [str(m) for m in again.context["messages"]]
    assert not Vote.objects.filter(idea=idea).exists()


def test_closing_a_call_without_rewards_does_not_speak_of_refunds(client) -> None:
    owner = make_user()
    call = open_call(owner)
    client.force_login(owner)

    response = client.post(f"/en/ideas/calls/{call.pk}/close/", follow=True)

    assert [str(m) for m in response.context["messages"]] == [gettext("The call is closed.")]
    assert client.post(f"/en/ideas/calls/{call.pk + 1000}/close/").status_code == 404


def test_posting_after_the_submission_deadline_says_the_call_takes_no_more_ideas(client) -> None:
    call = open_call(make_user())
    client.force_login(make_user())
    with time_machine.travel(call.submission_deadline + timedelta(minutes=1)):
        response = client.post(
            f"/en/ideas/calls/{call.pk}/submit/",
            {"title": "Paper bags", "description": "At every till."},
        )

    assert response.status_code == 422
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [gettext("This call no longer takes ideas.")]
    assert not Idea.objects.filter(call=call).exists()


def test_improving_an_idea_merged_meanwhile_says_why_nothing_was_posted(client) -> None:
    owner = make_user()
    call = open_call(owner)
    original = post(call, title="Deposit cups")
    kept = post(call, title="Cups with a deposit")
    services.idea_merge(idea_id=original.pk, into_id=kept.pk, user=owner)
    client.force_login(make_user())

    response = client.post(
        f"/en/ideas/calls/{call.pk}/submit/",
        {"title": "Deposit cups, washed", "description": "Wash them.", "improves": original.pk},
    )

    assert response.status_code == 422
    assert gettext("You can improve only an active idea of this call.") in response.content.decode()
    assert not Idea.objects.filter(improves=original).exists()


def test_stage_move_sent_twice_says_the_idea_is_already_there(client) -> None:
    owner = make_user()
    call = open_call(owner)
    idea = post(call)
    review = stage(call, "under_review")
    client.force_login(owner)
    move = {"stage": review.pk, "reason": "We are looking into it"}
    client.post(f"/en/ideas/{idea.pk}/stage/", move, follow=True)

    again = client.post(f"/en/ideas/{idea.pk}/stage/", move, follow=True)
    empty = client.post(f"/en/ideas/{idea.pk}/stage/", {}, follow=True)

    assert [str(m) for m in again.context["messages"]] == [
        gettext("The idea is already in this stage.")
    ]
    (missing,) = [str(m) for m in empty.context["messages"]]
    assert str(StageMoveForm.base_fields["stage"].label) in missing
    assert str(StageMoveForm.base_fields["reason"].label) in missing
    assert StageChange.objects.filter(idea=idea).count() == 1


def test_invite_without_a_name_says_what_is_missing(client) -> None:
    owner = make_user()
    call = draft_call(owner, audience=IdeaCall.Audience.INVITED)
    client.force_login(owner)

    response = client.post(f"/en/ideas/calls/{call.pk}/invite/", {"who": ""}, follow=True)

    (shown,) = [str(m) for m in response.context["messages"]]
    assert str(InviteForm.base_fields["who"].label) in shown
    client.force_login(make_user())
    assert client.post(f"/en/ideas/calls/{call.pk}/invite/", {"who": ""}).status_code == 404


def test_stage_form_preselects_no_stage_so_a_reward_is_never_paid_by_default(client) -> None:
    owner = make_user()
    call = open_call(owner, rewards=1)
    idea = post(call)
    services.idea_stage_move(
        idea_id=idea.pk, user=owner, stage_id=stage(call, "under_review").pk, reason="Looking"
    )
    client.force_login(owner)

    page = client.get(f"/en/ideas/{idea.pk}/").content.decode()
    sent = client.post(f"/en/ideas/{idea.pk}/stage/", {"reason": "Typed, stage not chosen"})

    select = page[page.index('id="id_stage"') :]
    first_option = select[select.index("<option") : select.index("</option>")]
    assert 'value=""' in first_option and "selected" in first_option
    assert sent.status_code == 302
    assert Idea.objects.get(pk=idea.pk).stage.key == "under_review"
    assert not RewardPayment.objects.filter(idea=idea).exists()


def test_one_vote_or_point_is_counted_in_the_singular(client) -> None:
    call = open_call(make_user())
    original = post(call, title="Deposit cups")
    improvement = post(call, title="Deposit cups, washed", improves_id=original.pk)
    services.idea_vote(idea_id=improvement.pk, user=make_user())
    budget = open_call(make_user(), voting_mode=IdeaCall.VotingMode.BUDGET)
    pointed = post(budget)
    services.idea_vote(idea_id=pointed.pk, user=make_user(), points=1)

    improvements = client.get(f"/nl/ideas/{original.pk}/").content.decode()
    vote_box = client.get(f"/nl/ideas/{pointed.pk}/").content.decode()

    assert "· 1 stem</small>" in improvements and "1 stemmen" not in improvements
    assert '<small class="muted">punt</small>' in vote_box


def test_draft_page_shows_when_ideas_close(client) -> None:
    owner = make_user()
    call = draft_call(owner)
    client.force_login(owner)

    page = client.get(f"/en/ideas/calls/{call.pk}/").content.decode()

    assert date_format(timezone.localtime(call.submission_deadline), "j N Y, H:i") in page


def test_call_feed_dates_each_idea(client) -> None:
    call = open_call(make_user())
    post(call)

    feed = client.get(f"/en/ideas/calls/{call.pk}/feed/").content.decode()

    assert feed.count("<item>") == 1 and feed.count("<pubDate>") == 1


def test_comment_with_htmx_returns_the_thread(client) -> None:
    call = open_call(make_user())
    idea = post(call)
    client.force_login(make_user())
    response = client.post(
        f"/en/ideas/{idea.pk}/comments/", {"body": "Nice!"}, HTTP_HX_REQUEST="true"
    )
    assert 'id="comments-list"' in response.content.decode()
    assert Comment.objects.filter(idea=idea, body="Nice!").exists()


def test_similar_ideas_while_typing_and_without_javascript(client) -> None:
    call = open_call(make_user())
    post(call, title="Reusable coffee cups", description="A deposit on reusable coffee cups")
    client.force_login(make_user())
    box = client.get(
        f"/en/ideas/calls/{call.pk}/similar/",
        {"title": "Reusable cups for coffee", "description": "deposit"},
    )
    assert "Reusable coffee cups" in box.content.decode()
    checked = client.post(
        f"/en/ideas/calls/{call.pk}/submit/",
        {"title": "Reusable cups for coffee", "description": "with a deposit", "action": "check"},
    )
    assert "Reusable coffee cups" in checked.content.decode()
    assert Idea.objects.filter(call=call).count() == 1


def test_stage_form_and_close_work_without_javascript(client) -> None:
    owner = make_user()
    call = open_call(owner)
    idea = post(call)
    client.force_login(owner)
    client.post(
        f"/en/ideas/{idea.pk}/stage/",
        {"stage": stage(call, "done").pk, "reason": "Already built."},
    )
    assert Idea.objects.get(pk=idea.pk).stage.key == "done"
    client.post(f"/en/ideas/calls/{call.pk}/close/")
    assert IdeaCall.objects.get(pk=call.pk).status == IdeaCall.Status.CLOSED


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(call: IdeaCall, n: int) -> None:
    for i in range(n):
        idea = post(call, title=f"Idea {i}", tags=["packaging"])
        for _ in range(2):
            services.idea_vote(idea_id=idea.pk, user=make_user())
        services.comment_create(idea_id=idea.pk, user=make_user(), body="Yes")


def test_list_pages_run_a_constant_number_of_queries(client) -> None:
    owner = make_user()
    call = open_call(owner)
    _grow(call, 1)
    viewer = make_user()
    client.force_login(viewer)
    services.idea_vote(idea_id=Idea.objects.filter(call=call).first().pk, user=viewer)  # type: ignore[union-attr]
    urls = [
        "/en/ideas/",
        f"/en/ideas/calls/{call.pk}/",
        f"/en/ideas/calls/{call.pk}/?sort=trending",
        "/en/ideas/mine/",
    ]
    before = {url: _queries(client, url) for url in urls}
    open_call(owner)
    _grow(call, 4)
    after = {url: _queries(client, url) for url in urls}
    assert after == before
    client.force_login(owner)
    dashboard = _queries(client, "/en/ideas/dashboard/")
    _grow(call, 2)
    assert _queries(client, "/en/ideas/dashboard/") == dashboard


def test_list_endpoints_run_a_constant_number_of_queries(client) -> None:
    owner = make_user()
    call = open_call(owner)
    _grow(call, 1)
    idea = Idea.objects.filter(call=call).first()
    assert idea is not None
    client.force_login(make_user())
    urls = [
        "/api/v1/idea-calls",
        f"/api/v1/idea-calls/{call.pk}/ideas",
        f"/api/v1/ideas/{idea.pk}/comments",
    ]
    before = {url: _queries(client, url) for url in urls}
    open_call(owner)
    _grow(call, 4)
    for _ in range(3):
        services.comment_create(idea_id=idea.pk, user=make_user(), body="More")
    assert {url: _queries(client, url) for url in urls} == before


def test_a_draft_is_not_found_for_others(client) -> None:
    call = draft_call(make_user())
    client.force_login(make_user())
    assert client.get(f"/en/ideas/calls/{call.pk}/").status_code == 404


def test_call_list_shows_open_calls_first_then_voting_then_closed() -> None:
    from trefpunt.ideas.selectors import call_list_for_user

    owner = make_user()
    closed = open_call(owner, title="Closed one")
    services.call_close(call_id=closed.pk, user=owner)
    voting = open_call(owner, title="Voting one")
    services.call_voting_start(call_id=voting.pk, user=owner)
    running = open_call(owner, title="Open one")

    assert [c.pk for c in call_list_for_user(user=None)] == [running.pk, voting.pk, closed.pk]


def test_pagination_keeps_the_filters(rf) -> None:
    from django.core.paginator import Paginator
    from django.template.loader import render_to_string

    request = rf.get("/en/ideas/calls/1/", {"sort": "newest", "page": "2"})
    page = Paginator(list(range(50)), 20).get_page(2)
    html = render_to_string("ideas/_pagination.html", {"page": page, "request": request})
    assert "?sort=newest&amp;page=1" in html and "?sort=newest&amp;page=3" in html
