"""The notification centre: every notice in-app, emailed per preference, daily summaries,
one-click unsubscribe."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trefpunt.accounts.models import User
from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.community.models import Notification, NotificationSetting
from trefpunt.community.notifications import (
    NotificationKind,
    notification_deliver,
    notification_kinds_register,
    notifications_digest_send,
    notify,
    unsubscribe_token,
)
from trefpunt.community.services import notification_settings_update
from trefpunt.core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
notification_kinds_register(
    NotificationKind("tests.news", "accounts/email/invitation.txt", "News"),
    NotificationKind("tests.money", "accounts/email/invitation.txt", "Money", essential=True),
)
CONTEXT = {"inviter": "Eva", "organisation": "Buurtwerk", "role": "member", "days": 3}


def person(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def tell(user: User, kind: str = "tests.news", path: str = "/en/contests/") -> None:
    notify(users=[user], kind=kind, context=CONTEXT, path=path)


def prefer(user: User, kind: str, delivery: str) -> None:
    NotificationSetting.objects.update_or_create(
        user=user, kind=kind, defaults={"delivery": delivery}
    )


def test_a_notice_lands_in_the_centre_in_both_languages_and_is_emailed_at_once(
    django_capture_on_commit_callbacks,
) -> None:
    user = person(language="nl")

    with django_capture_on_commit_callbacks(execute=True):
        tell(user)

    notice = Notification.objects.get(user=user)
    assert notice.read_at is None
    assert "invited" in notice.title("en")
    assert "uitgenodigd" in notice.title("nl")
    assert notice.email == Notification.Email.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    assert "/settings/notifications/" in message.body


def test_the_same_notice_delivered_twice_is_recorded_and_emailed_once() -> None:
    user = person()

    for _attempt in range(2):
        notification_deliver(to=user.pk, kind="tests.news", context=CONTEXT, uid="abc")

    assert Notification.objects.filter(user=user).count() == 1
    assert len(mail.outbox) == 1


def test_off_keeps_the_notice_in_the_centre_but_sends_no_email() -> None:
    user = person()
    prefer(user, "tests.news", "off")

    notification_deliver(to=user.pk, kind="tests.news", context=CONTEXT, uid="u1")

    assert Notification.objects.get(user=user).email == Notification.Email.NONE
    assert mail.outbox == []


def test_money_and_security_notices_are_emailed_even_when_a_setting_says_off() -> None:
    user = person()
    prefer(user, "tests.money", "off")  # cannot be chosen; even a stray row is ignored

    notification_deliver(to=user.pk, kind="tests.money", context=CONTEXT, uid="u1")

    assert len(mail.outbox) == 1
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers
    with pytest.raises(ValidationFailed) as exc:
        notification_settings_update(user=user, choices={"tests.money": "off"})
    assert list(exc.value.fields) == ["tests.money"]


def test_the_daily_summary_sends_the_days_notices_in_one_email_once() -> None:
    user = person(language="en")
    prefer(user, "tests.news", "digest")
    with time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=AMS), tick=False):
        for n in range(3):
            notification_deliver(
                to=user.pk, kind="tests.news", context=CONTEXT, path=f"/en/x/{n}/", uid=f"d{n}"
            )
        assert notifications_digest_send() == 0  # before the next summary time
    assert mail.outbox == []

    with time_machine.travel(datetime(2026, 12, 8, 7, 5, tzinfo=AMS), tick=False):
        assert notifications_digest_send() == 1
        assert notifications_digest_send() == 0

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "3 updates" in mail.outbox[0].subject
    assert all(f"/en/x/{n}/" in body for n in range(3))
    assert set(Notification.objects.values_list("email", flat=True)) == {"sent"}


def test_a_notice_links_to_its_page_in_the_readers_language(
    client, django_capture_on_commit_callbacks
) -> None:
    """A notice keeps the path of the request that made it (here an English one); the
    email, the daily summary and the centre's link all lead to the page in the language
    the reader reads."""
    user = person(language="nl")
    with django_capture_on_commit_callbacks(execute=True):
        tell(user, path="/en/contests/")
    prefer(user, "tests.news", "digest")
    with time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=AMS), tick=False):
        notification_deliver(
            to=user.pk, kind="tests.news", context=CONTEXT, path="/en/people/", uid="p"
        )
    with time_machine.travel(datetime(2026, 12, 8, 7, 5, tzinfo=AMS), tick=False):
        assert notifications_digest_send() == 1
    instant, summary = (m.body for m in mail.outbox)
    assert "/nl/contests/" in instant and "/en/contests/" not in instant
    assert "/nl/people/" in summary and "/en/people/" not in summary

    notice = Notification.objects.get(user=user, path="/en/contests/")
    client.force_login(user)
    assert client.get(f"/nl/notifications/{notice.pk}/")["Location"] == "/nl/contests/"
    assert client.get(f"/en/notifications/{notice.pk}/")["Location"] == "/en/contests/"
    _token, raw = api_token_create(user=user, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    client.cookies.clear()  # the API answers in the language the request asks for
    listed = client.get("/api/v1/notifications", HTTP_ACCEPT_LANGUAGE="nl", **auth).json()
    assert {row["url"].removeprefix(settings.SITE_URL) for row in listed["items"]} == {
        "/nl/contests/",
        "/nl/people/",
    }


def test_unsubscribe_link_works_without_login_for_its_own_person_and_kind(client) -> None:
    user, other = person(), person()
    token = unsubscribe_token(user_id=user.pk, kind="tests.news")

    page = client.get(f"/unsubscribe/{token}/")
    response = client.post(f"/unsubscribe/{token}/")  # RFC 8058 one-click: no CSRF token

    assert page.status_code == 200
    assert response.status_code == 200
    assert NotificationSetting.objects.get(user=user, kind="tests.news").delivery == "off"
    assert not NotificationSetting.objects.filter(user=other).exists()


def test_a_tampered_or_essential_unsubscribe_link_changes_nothing(client) -> None:
    user = person()
    token = unsubscribe_token(user_id=user.pk, kind="tests.news")
    money = unsubscribe_token(user_id=user.pk, kind="tests.money")

    tampered = client.post(f"/unsubscribe/{token[:-2]}xx/")
    essential = client.post(f"/unsubscribe/{money}/")

    assert tampered.status_code == 404
    assert essential.status_code == 200
    assert not NotificationSetting.objects.filter(user=user).exists()


def test_the_centre_lists_marks_read_and_counts_unread_in_constant_queries(client) -> None:
    user = person()
    client.force_login(user)
    notification_deliver(to=user.pk, kind="tests.news", context=CONTEXT, path="/en/", uid="a")

    with CaptureQueriesContext(connection) as few:
        client.get("/en/notifications/")
    for n in range(20):
        notification_deliver(to=user.pk, kind="tests.news", context=CONTEXT, uid=f"b{n}")
    with CaptureQueriesContext(connection) as many:
        page = client.get("/en/notifications/")

    assert len(many) == len(few)
    assert b"21 unread" in page.content
    first = Notification.objects.filter(user=user).order_by("id").first()
    assert first is not None
    assert client.get(f"/en/notifications/{first.pk}/")["Location"] == "/en/"
    client.post("/en/notifications/read-all/")
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()


def test_someone_elses_notice_is_not_found(client) -> None:
    owner, other = person(), person()
    notification_deliver(to=owner.pk, kind="tests.news", context=CONTEXT, uid="a")
    notice = Notification.objects.get(user=owner)
    client.force_login(other)

    assert client.get(f"/en/notifications/{notice.pk}/").status_code == 404
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_notifications_api_lists_reads_and_sets_preferences(client) -> None:
    user = person()
    _token, raw = api_token_create(user=user, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    notification_deliver(to=user.pk, kind="tests.news", context=CONTEXT, uid="a")
    notice = Notification.objects.get(user=user)

    listed = client.get("/api/v1/notifications", **auth).json()
    read = client.post(f"/api/v1/notifications/{notice.pk}/read", **auth).json()
    bad = client.put(
        "/api/v1/me/notification-settings",
        {"tests.news": "weekly"},
        content_type="application/json",
        **auth,
    )
    good = client.put(
        "/api/v1/me/notification-settings",
        {"tests.news": "digest"},
        content_type="application/json",
        **auth,
    )

    assert listed["unread"] == 1
    assert listed["items"][0]["id"] == notice.pk
    assert read["read"] is True
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid"
    assert {"kind": "tests.news", "delivery": "digest"}.items() <= next(
        row for row in good.json() if row["kind"] == "tests.news"
    ).items()


def test_the_header_shows_name_profile_and_unread_count_from_one_statement(
    client, django_capture_on_commit_callbacks
) -> None:
    """Every page a logged-in person opens renders the header: their name, their profile
    link and the unread badge come from one statement, and follow what changed at once."""
    from django.urls import reverse

    from trefpunt.accounts.models import Profile

    user = person()
    Profile.objects.filter(user=user).update(display_name="Eva Jansen", handle="eva-j")
    with django_capture_on_commit_callbacks(execute=True):
        tell(user)
        tell(user)
    client.force_login(user)
    address = reverse("community:inbox")
    client.get(address)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(address).content.decode()
    sqls = [q["sql"] for q in captured.captured_queries]
    header = [sql for sql in sqls if "accounts_profile" in sql or "community_notification" in sql]
    assert len(header) == 1 and "community_notification" in header[0]
    assert "<summary>Eva Jansen</summary>" in page
    assert 'href="/en/@eva-j/"' in page
    assert '<span class="badge" aria-hidden="true">2</span>' in page

    Notification.objects.filter(user=user).update(read_at="2026-01-01T00:00:00Z")
    Profile.objects.filter(user=user).update(display_name="Eva de Vries")
    page = client.get(address).content.decode()
    assert "<summary>Eva de Vries</summary>" in page
    assert 'class="badge"' not in page
