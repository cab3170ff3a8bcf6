"""An organisation-only or invite-only call is invisible (404) to everyone else: list, page,
API, search (similar ideas), feed and file URLs, also with guessed ids."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from trefpunt.accounts.tests.factories import image_bytes
from trefpunt.ideas import services

from .factories import join, make_organisation, make_user, open_call, post

pytestmark = pytest.mark.django_db


def _private_calls():
    owner = make_user()
    organisation = make_organisation(owner)
    member = join(organisation, owner)
    org_call = open_call(
        owner,
        title="Members only question",
        organisation=organisation.slug,
        audience="organisation",
    )
    invited = make_user()
    invite_call = open_call(owner, title="Invited only question", audience="invited")
    services.call_invite(call_id=invite_call.pk, user=owner, who=invited.email)
    png = SimpleUploadedFile("s.png", image_bytes(100, 80), content_type="image/png")
    org_idea = post(org_call, member, files=[png])
    invite_idea = post(invite_call, invited)
    return owner, member, invited, org_call, invite_call, org_idea, invite_idea


def _urls(call, idea):
    attachment = idea.attachments.first()
    urls = [
        f"/en/ideas/calls/{call.pk}/",
        f"/en/ideas/{idea.pk}/",
        f"/en/ideas/calls/{call.pk}/similar/?title=question+about+cups",
        f"/en/ideas/calls/{call.pk}/cover/",
        f"/en/ideas/calls/{call.pk}/feed/",
        f"/api/v1/idea-calls/{call.pk}",
        f"/api/v1/idea-calls/{call.pk}/ideas",
        f"/api/v1/ideas/{idea.pk}",
        f"/api/v1/ideas/{idea.pk}/comments",
        f"/api/v1/ideas/similar?call={call.pk}&text=cups",
    ]
    if attachment:
        urls += [
            f"/en/ideas/files/{attachment.pk}/thumb/",
            f"/en/ideas/files/{attachment.pk}/original/",
        ]
    return urls


def test_private_calls_are_not_found_for_everyone_else(client) -> None:
    _owner, _member, _invited, org_call, invite_call, org_idea, invite_idea = _private_calls()
    outsider = make_user()
    client.force_login(outsider)

    listing = client.get("/en/ideas/").content.decode()
    assert "Members only question" not in listing and "Invited only question" not in listing
    api_list = client.get("/api/v1/idea-calls").json()
    assert api_list["count"] == 0
    for call, idea in ((org_call, org_idea), (invite_call, invite_idea)):
        for url in _urls(call, idea):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/en/ideas/{idea.pk}/vote/").status_code == 404
        assert (
            client.post(
                f"/api/v1/ideas/{idea.pk}/vote", {}, content_type="application/json"
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/en/ideas/calls/{call.pk}/submit/", {"title": "x", "description": "y"}
            ).status_code
            == 404
        )


def test_private_calls_are_visible_to_their_people(client) -> None:
    _owner, member, invited, _org_call, _invite_call, org_idea, invite_idea = _private_calls()
    client.force_login(member)
    assert "Members only question" in client.get("/en/ideas/").content.decode()
    assert client.get(f"/en/ideas/{org_idea.pk}/").status_code == 200
    attachment = org_idea.attachments.get()
    assert client.get(f"/en/ideas/files/{attachment.pk}/thumb/").status_code == 200
    assert client.get(f"/en/ideas/{invite_idea.pk}/").status_code == 404
    client.force_login(invited)
    assert client.get(f"/api/v1/ideas/{invite_idea.pk}").status_code == 200
    assert client.get(f"/en/ideas/{org_idea.pk}/").status_code == 404


def test_private_calls_are_not_found_for_visitors(client) -> None:
    _owner, _member, _invited, org_call, _invite_call, org_idea, _invite_idea = _private_calls()
    for url in _urls(org_call, org_idea):
        if url.startswith("/api/"):
            continue  # the API answers 401 to a visitor first
        assert client.get(url).status_code == 404, url
