"""Ideas: submit, improvements, edit until the first vote or comment, merge."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from trefpunt.accounts.tests.factories import image_bytes
from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied, ValidationFailed
from trefpunt.ideas import services
from trefpunt.ideas.models import Follow, Idea, IdeaAuthor, Vote

from .factories import make_user, open_call, post

pytestmark = pytest.mark.django_db


def test_idea_submit_credits_and_follows_its_author() -> None:
    call = open_call(make_user())
    author = make_user()

    idea = post(call, author, tags=["packaging"])

    assert idea.stage.key == "submitted"
    assert list(IdeaAuthor.objects.filter(idea=idea).values_list("user", flat=True)) == [author.pk]
    assert Follow.objects.filter(idea=idea, user=author).exists()
    assert list(idea.tags.values_list("slug", flat=True)) == ["packaging"]
    assert idea.features


def test_idea_submit_sent_twice_posts_one_idea(client) -> None:
    call = open_call(make_user())
    author = make_user()
    client.force_login(author)
    form = {"title": "Paper bags", "description": "At every till, for free."}

    first = client.post(f"/en/ideas/calls/{call.pk}/submit/", form)
    second = client.post(f"/en/ideas/calls/{call.pk}/submit/", form)
    other = post(call, author, title="Paper bags", description="Sold at the till.")

    idea = Idea.objects.get(call=call, description=form["description"])
    assert first["Location"] == second["Location"] == idea.get_absolute_url()
    assert Idea.objects.filter(call=call).count() == 2
    assert other.pk != idea.pk


def test_idea_submit_after_the_submission_deadline_is_refused() -> None:
    call = open_call(make_user())
    with (
        time_machine.travel(call.submission_deadline + timedelta(seconds=1)),
        pytest.raises(Conflict) as exc,
    ):
        post(call)
    assert exc.value.code == ErrorCode.SUBMISSIONS_CLOSED


def test_idea_submit_refuses_unknown_tags_and_long_titles() -> None:
    call = open_call(make_user())
    with pytest.raises(ValidationFailed) as exc:
        post(call, title="t" * 141, tags=["nope"])
    assert set(exc.value.fields) == {"title", "tags"}


def test_idea_attachments_are_checked_by_content_and_get_thumbnails() -> None:
    call = open_call(make_user())
    png = SimpleUploadedFile("sketch.png", image_bytes(300, 200), content_type="image/png")
    idea = post(call, files=[png])
    attachment = idea.attachments.get()
    assert attachment.kind == "image" and attachment.thumb.name

    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(ValidationFailed) as exc:
        post(call, files=[fake])
    assert "files" in exc.value.fields


def test_improvement_links_both_ways_and_tells_the_original_author(
    django_capture_on_commit_callbacks,
) -> None:
    call = open_call(make_user())
    original = post(call)
    with django_capture_on_commit_callbacks(execute=True):
        better = post(call, title="Reusable cups with a deposit", improves_id=original.pk)

    assert better.improves == original
    assert list(original.improvements.all()) == [better]
    assert any("improvement" in m.subject.lower() for m in mail.outbox)
    assert mail.outbox[-1].to == [original.author.email]


def test_idea_edit_until_the_first_vote_then_only_updates() -> None:
    call = open_call(make_user())
    author = make_user()
    idea = post(call, author)

    services.idea_edit(idea_id=idea.pk, user=author, title="Deposit cups", description="Better")
    services.idea_vote(idea_id=idea.pk, user=make_user())

    with pytest.raises(Conflict) as exc:
        services.idea_edit(idea_id=idea.pk, user=author, title="Again", description="No")
    assert exc.value.code == ErrorCode.IDEA_LOCKED
    update = services.idea_update_add(idea_id=idea.pk, user=author, text="We tested it!")
    assert update.idea == idea
    assert Idea.objects.get(pk=idea.pk).title == "Deposit cups"


def test_idea_edit_after_the_call_closed_is_refused_on_the_page_and_in_the_api(client) -> None:
    owner = make_user()
    call = open_call(owner)
    author = make_user()
    idea = post(call, author, title="Paper bags")
    services.call_close(call_id=call.pk, user=owner, reason="Thank you all")

    with pytest.raises(Conflict) as exc:
        services.idea_edit(idea_id=idea.pk, user=author, title="Rewritten", description="Later")
    assert exc.value.code == ErrorCode.WRONG_STATE

    client.force_login(author)
    page = client.post(
        f"/en/ideas/{idea.pk}/edit/", {"title": "Rewritten", "description": "After the close"}
    )
    api = client.patch(
        f"/api/v1/ideas/{idea.pk}",
        {"title": "Rewritten", "description": "After the close"},
        content_type="application/json",
    )
    assert page.status_code == 422
    assert api.status_code == 409 and api.json()["error"]["code"] == ErrorCode.WRONG_STATE
    assert Idea.objects.get(pk=idea.pk).title == "Paper bags"


def test_idea_edit_by_someone_else_is_forbidden() -> None:
    call = open_call(make_user())
    idea = post(call)
    with pytest.raises(PermissionDenied) as exc:
        services.idea_edit(idea_id=idea.pk, user=make_user(), title="Mine", description="now")
    assert exc.value.code == ErrorCode.FORBIDDEN


def test_idea_merge_moves_votes_without_double_counting_and_credits_both_authors(
    django_capture_on_commit_callbacks,
) -> None:
    client = make_user()
    call = open_call(client)
    anna, bram = make_user(), make_user()
    kept = post(call, anna, title="Reusable cups")
    duplicate = post(call, bram, title="Cups you can reuse")
    both, only_dup, only_kept = make_user(), make_user(), make_user()
    follower = make_user()
    services.follow_set(user=follower, idea_id=duplicate.pk, follow=True)
    for voter in (both, only_kept):
        services.idea_vote(idea_id=kept.pk, user=voter)
    for voter in (both, only_dup):
        services.idea_vote(idea_id=duplicate.pk, user=voter)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.idea_merge(idea_id=duplicate.pk, into_id=kept.pk, user=client)

    assert result.pk == kept.pk
    assert (result.score, result.voter_count) == (3, 3)  # both voted twice, counted once
    assert Vote.objects.filter(idea=kept).count() == 3
    assert not Vote.objects.filter(idea=duplicate).exists()
    duplicate.refresh_from_db()
    assert duplicate.status == Idea.Status.MERGED and duplicate.merged_into == kept
    assert set(IdeaAuthor.objects.filter(idea=kept).values_list("user", flat=True)) == {
        anna.pk,
        bram.pk,
    }
    assert Follow.objects.filter(idea=kept, user=follower).exists()
    told = {address for m in mail.outbox if "merged" in m.subject for address in m.to}
    assert {anna.email, bram.email, follower.email} <= told


def test_idea_merge_into_itself_or_twice_is_refused() -> None:
    client = make_user()
    call = open_call(client)
    a, b = post(call), post(call)
    with pytest.raises(Conflict) as exc:
        services.idea_merge(idea_id=a.pk, into_id=a.pk, user=client)
    assert exc.value.code == ErrorCode.MERGE_SAME
    services.idea_merge(idea_id=a.pk, into_id=b.pk, user=client)
    with pytest.raises(Conflict) as again:
        services.idea_merge(idea_id=a.pk, into_id=b.pk, user=client)
    assert again.value.code == ErrorCode.WRONG_STATE


def test_budget_merge_gives_back_the_smaller_vote() -> None:
    client = make_user()
    call = open_call(client, voting_mode="budget", budget_points=10)
    kept, duplicate = post(call), post(call)
    voter = make_user()
    services.idea_vote(idea_id=kept.pk, user=voter, points=3)
    services.idea_vote(idea_id=duplicate.pk, user=voter, points=5)

    services.idea_merge(idea_id=duplicate.pk, into_id=kept.pk, user=client)

    kept.refresh_from_db()
    assert kept.score == 5
    assert Vote.objects.get(idea=kept, voter=voter).points == 5
    services.idea_vote(idea_id=post(call).pk, user=voter, points=5)  # 5 + 5 = the budget
