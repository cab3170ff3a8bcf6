"""Moderation of what projects and idea calls bring: job posts, proposals and reviews are
hidden; an idea call is taken down with its escrow refunded; a suspended poster's briefs,
calls and jobs leave the search index (and so sitemaps and feeds) until reinstated; a deleted
member's name is read in the reader's language."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from trefpunt.accounts.models import FORMER_MEMBER, Profile, User
from trefpunt.contests.tests.factories import make_user, published
from trefpunt.discovery.models import SearchDocument
from trefpunt.ideas.models import IdeaCall
from trefpunt.ideas.tests.factories import escrow_balance, open_call, post, wallet_of
from trefpunt.moderation import services
from trefpunt.moderation.models import AuditEntry, Decision, Reason
from trefpunt.projects import selectors as project_selectors
from trefpunt.projects import services as project_services
from trefpunt.projects.tests.factories import hired, open_job, propose

pytestmark = pytest.mark.django_db


def staff_user() -> User:
    return make_user(is_staff=True)


def browser(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def indexed(kind: str, object_id: int) -> bool:
    return SearchDocument.objects.filter(kind=kind, object_id=object_id).exists()


def last_audit() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    return entry


def test_a_hidden_job_post_is_gone_for_the_public_and_back_when_the_appeal_wins(
    django_capture_on_commit_callbacks: Any,
):
    poster = make_user()
    job = open_job(poster)
    url = f"/en/projects/jobs/{job.pk}/"
    assert indexed("job", job.pk)
    services.report_create(user=make_user(), kind="projects.job", object_id=job.pk, reason="scam")
    staff = staff_user()

    with django_capture_on_commit_callbacks(execute=True):
        decision = services.content_hide(
            staff=staff, kind="projects.job", object_id=job.pk, reason="A fake job."
        )

    assert browser().get(url).status_code == 404
    assert browser(make_user()).get(url).status_code == 404
    assert browser(make_user()).get(f"/api/v1/projects/{job.pk}").status_code == 404
    assert browser(poster).get(url).status_code == 200
    assert browser(staff).get(url).status_code == 200
    assert not indexed("job", job.pk)
    assert job not in project_selectors.job_list_for_user(user=make_user())
    assert any("A fake job." in str(m.body) for m in mail.outbox if poster.email in m.to)
    line = last_audit()
    assert (line.action, line.target_kind, line.before, line.after["hidden"]) == (
        "hide",
        "projects.job",
        {"hidden": False},
        True,
    )

    services.decision_appeal(user=poster, decision_id=decision.pk, text="It is a real job.")
    services.appeal_decide(staff=staff, decision_id=decision.pk, overturn=True, reason="Fair.")
    assert browser().get(url).status_code == 200
    assert indexed("job", job.pk)


def test_a_hidden_proposal_is_gone_for_the_client_and_stays_for_its_freelancer():
    job = open_job()
    proposal = propose(job)
    client = job.created_by
    services.report_create(
        user=client, kind="projects.proposal", object_id=proposal.pk, reason=Reason.SPAM
    )
    services.content_hide(
        staff=staff_user(), kind="projects.proposal", object_id=proposal.pk, reason="Spam."
    )

    assert list(project_selectors.proposal_list_for_job(job=job)) == []
    assert browser(client).get(f"/en/projects/proposals/{proposal.pk}/").status_code == 404
    assert (
        browser(proposal.freelancer).get(f"/en/projects/proposals/{proposal.pk}/").status_code
        == 200
    )
    assert Decision.objects.get(kind="projects.proposal").author == proposal.freelancer


def test_a_hidden_review_leaves_the_profile_and_the_contract_but_not_its_author():
    contract = hired()
    project_services.contract_end(contract_id=contract.pk, user=contract.client)
    rude = project_services.review_create(
        contract_id=contract.pk, user=contract.client, rating=1, text="Insults here."
    )
    project_services.review_create(
        contract_id=contract.pk, user=contract.freelancer, rating=5, text="Fine client."
    )
    reporter = contract.freelancer
    services.report_create(
        user=reporter, kind="projects.review", object_id=rude.pk, reason=Reason.ABUSE
    )
    services.content_hide(
        staff=staff_user(), kind="projects.review", object_id=rude.pk, reason="Abusive."
    )

    assert list(project_selectors.reviews_of_user(user_id=contract.freelancer_id)) == []
    seen = project_selectors.contract_reviews_for(contract=contract, user=contract.freelancer)
    assert [r.text for r in seen] == ["Fine client."]
    own = project_selectors.contract_reviews_for(contract=contract, user=contract.client)
    assert {r.text for r in own} == {"Insults here.", "Fine client."}


def test_taking_down_a_funded_idea_call_refunds_the_escrow_and_tells_the_authors(
    django_capture_on_commit_callbacks: Any,
):
    client = make_user()
    call = open_call(client, rewards=2)
    idea = post(call)
    held = escrow_balance(call)
    wallet = wallet_of(call)
    before = wallet.balance
    assert held > 0
    services.report_create(
        user=idea.author, kind="ideas.call", object_id=call.pk, reason=Reason.SCAM
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.content_take_down(
            staff=staff_user(), kind="ideas.call", object_id=call.pk, reason="A scam call."
        )

    taken = IdeaCall.objects.get(pk=call.pk)
    assert taken.status == IdeaCall.Status.CLOSED
    assert escrow_balance(call) == 0
    wallet.refresh_from_db()
    assert wallet.balance == before + held
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert "passed" in out.getvalue()
    assert any(idea.author.email in m.to for m in mail.outbox)
    assert any("A scam call." in str(m.body) for m in mail.outbox if client.email in m.to)
    line = last_audit()
    assert (line.action, line.after["refunded"], line.after["told"]) == ("take_down", held, 1)
    assert not indexed("ideacall", call.pk)
    assert not indexed("idea", idea.pk)
    assert browser().get(f"/en/ideas/calls/{call.pk}/").status_code == 404
    assert browser(client).get(f"/en/ideas/calls/{call.pk}/").status_code == 200


def test_a_suspended_posters_briefs_calls_and_jobs_leave_search_until_reinstated():
    poster = make_user()
    contest = published(poster)
    call = open_call(poster)
    job = open_job(poster)
    assert (
        indexed("contest", contest.pk) and indexed("ideacall", call.pk) and indexed("job", job.pk)
    )
    staff = staff_user()

    services.user_suspend(staff=staff, user_id=poster.pk, reason="Scams.", days=7)

    assert not indexed("contest", contest.pk)
    assert not indexed("ideacall", call.pk)
    assert not indexed("job", job.pk)
    search = browser().get("/en/search/?q=" + contest.title.split()[0])
    assert contest.title not in search.content.decode()

    services.user_reinstate(staff=staff, user_id=poster.pk, reason="Cleared.")

    assert (
        indexed("contest", contest.pk) and indexed("ideacall", call.pk) and indexed("job", job.pk)
    )


def test_a_deleted_members_name_is_read_in_the_readers_language():
    person = make_user()
    Profile.objects.filter(user=person).update(display_name=FORMER_MEMBER)
    with translation.override("nl"):
        dutch = Profile.objects.get(user=person).display_name
    with translation.override("en"):
        english = Profile.objects.get(user=person).display_name
    assert english == "Former member"
    assert dutch != english and dutch
