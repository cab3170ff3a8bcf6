"""The notifications module: queued, rendered in the recipient's language, linked to the
configured site."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from trefpunt.accounts.models import Organisation, User
from trefpunt.accounts.services import organisation_invite
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.community.notifications import (
    NotificationKind,
    notification_kinds_register,
    notify,
)

pytestmark = pytest.mark.django_db

SITE = "https://crowd.example.net"

notification_kinds_register(
    NotificationKind("tests.hello", "accounts/email/invitation.txt", "test"),
)


def person(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def invite(owner: User, email: str = "new@example.org") -> None:
    organisation = cast(
        Organisation, OrganisationFactory(user=owner, name="Bakkerij Van der Meulen")
    )
    organisation_invite(organisation=organisation, inviter=owner, email=email, role="admin")


@override_settings(SITE_URL=SITE, SITE_NAME="Buurtwerk")
def test_notify_sends_only_after_the_transaction_commits(django_capture_on_commit_callbacks):
    owner = person()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(owner)

    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.org"]
    assert "Bakkerij Van der Meulen" in message.subject
    assert "Buurtwerk" in message.subject
    assert f"{SITE}/orgs/invitations/" in message.body
    assert "example.com" not in message.body
    assert ":8000" not in message.body


@override_settings(SITE_URL=SITE)
def test_notify_renders_in_the_language_the_recipient_last_used(
    django_capture_on_commit_callbacks,
):
    dutch = person(language="nl")
    english = person(language="en")

    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[dutch, english, dutch.pk],
            kind="tests.hello",
            context={"inviter": "Eva", "organisation": "Buurtwerk", "role": "member", "days": 3},
            path="/en/contests/",
        )

    by_address: dict[str, Any] = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2  # a person listed twice is told once
    assert "uitgenodigd" in by_address[dutch.email].subject
    assert "invited" in by_address[english.email].subject
    # The link too, though the notice was made on an English page.
    assert f"{SITE}/nl/contests/" in by_address[dutch.email].body
    assert f"{SITE}/en/contests/" in by_address[english.email].body


def test_notify_refuses_an_unknown_kind_and_a_context_that_cannot_be_queued() -> None:
    user = person()
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify(users=[user], kind="tests.nope")
    with pytest.raises(TypeError):
        notify(users=[user], kind="tests.hello", context={"user": user})


def test_visiting_a_page_in_dutch_remembers_the_language_on_the_account(client) -> None:
    user = person(language="en")
    client.force_login(user)

    client.get("/nl/")

    user.refresh_from_db()
    assert user.language == "nl"


@pytest.mark.django_db(transaction=True)
def test_queued_notice_is_sent_by_the_task_worker() -> None:
    """The real queue: the notice waits in the database until ``db_worker`` runs it."""
    owner = person()
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}},
        SITE_URL=SITE,
    ):
        invite(owner, "worker@example.org")
        assert mail.outbox == []

        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    assert [m.to for m in mail.outbox] == [["worker@example.org"]]
    assert f"{SITE}/orgs/invitations/" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_signup_verification_email_is_queued_and_names_the_site(client) -> None:
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}},
        SITE_NAME="Buurtwerk",
    ):
        call_command("migrate", verbosity=0)  # writes the site's name where allauth reads it
        client.post(
            "/nl/accounts/signup/",
            {
                "display_name": "Anna",
                "email": "anna@example.org",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
            },
        )
        assert mail.outbox == []
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    assert len(mail.outbox) == 1
    body = str(mail.outbox[0].body)
    assert "Buurtwerk" in body
    assert "example.com" not in body
