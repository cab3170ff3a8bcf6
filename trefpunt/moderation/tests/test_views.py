"""The moderation pages: reporting, a decision and its appeal, the staff queue, the audit
log, the console and the read-only admin; staff pages do not exist for anyone else."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from trefpunt.accounts.models import User
from trefpunt.contests.models import Entry
from trefpunt.contests.tests.factories import enter, escrow_of, make_user, published
from trefpunt.microtasks.tests.factories import published_batch
from trefpunt.moderation import services
from trefpunt.moderation.models import AuditEntry, Decision, Reason, Report

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "/en/moderation/",
    "/en/moderation/?status=appeals",
    "/en/moderation/audit/",
    "/en/moderation/console/",
]


def browser(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def staff_user() -> User:
    return make_user(is_staff=True)


def test_staff_pages_do_not_exist_for_anyone_else():
    member = make_user()
    for url in [*STAFF_PAGES, f"/en/moderation/users/{member.pk}/"]:
        assert browser().get(url).status_code == 404, url
        assert browser(member).get(url).status_code == 404, url
        assert browser(staff_user()).get(url).status_code == 200, url
    entry = enter(published(make_user()))
    post = browser(member).post(
        "/en/moderation/act/",
        {"action": "hide", "kind": "contests.entry", "object_id": entry.pk, "reason": "x"},
    )
    assert post.status_code == 404
    assert Entry.objects.get(pk=entry.pk).hidden_at is None


def test_report_page_sends_a_report_and_goes_back_to_the_thing():
    contest = published(make_user())
    entry = enter(contest)
    reporter = make_user()
    url = f"/en/moderation/report/contests.entry/{entry.pk}/"
    assert browser().get(url).status_code == 302  # log in first
    page = browser(reporter).get(url)
    assert page.status_code == 200 and entry.title in page.content.decode()

    response = browser(reporter).post(
        url, {"reason": Reason.COPYRIGHT, "details": "Same as on a stock site", "next": "/x"}
    )

    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.reporter, report.reason, report.details) == (
        reporter,
        Reason.COPYRIGHT,
        "Same as on a stock site",
    )
    missing = browser(reporter).post(url.replace(str(entry.pk), "999999"), {"reason": "spam"})
    assert missing.status_code == 404
    other = browser(reporter).post(url, {"reason": "other", "details": ""})
    assert other.status_code in (302, 422)
    assert Report.objects.count() == 1


def test_report_links_show_on_the_pages():
    owner, visitor = make_user(), make_user()
    contest = published(owner)
    entry = enter(contest)
    batch = published_batch(items=2)
    profile = owner.profile
    pages = {
        f"/en/contests/{contest.pk}/": f"/moderation/report/contests.contest/{contest.pk}/",
        f"/en/contests/entries/{entry.pk}/": f"/moderation/report/contests.entry/{entry.pk}/",
        profile.get_absolute_url(): f"/moderation/report/accounts.profile/{profile.pk}/",
        f"/en/microtasks/batches/{batch.pk}/": f"/moderation/report/microtasks.batch/{batch.pk}/",
    }
    for page, link in pages.items():
        assert link in browser(visitor).get(page).content.decode(), page
    # Not on your own work.
    own = browser(owner).get(f"/en/contests/{contest.pk}/").content.decode()
    assert "/moderation/report/contests.contest/" not in own


def test_the_queue_hides_with_a_reason_and_the_audit_page_finds_it():
    contest = published(make_user())
    entry = enter(contest)
    services.report_create(
        user=make_user(), kind="contests.entry", object_id=entry.pk, reason=Reason.ABUSE
    )
    staff = staff_user()
    queue = browser(staff).get("/en/moderation/?kind=contests.entry").content.decode()
    assert entry.title in queue and 'value="hide"' in queue

    done = browser(staff).post(
        "/en/moderation/act/",
        {
            "action": "hide",
            "kind": "contests.entry",
            "object_id": entry.pk,
            "reason": "Hateful text in the image.",
        },
    )

    assert done.status_code == 302
    assert Entry.objects.get(pk=entry.pk).hidden_at is not None
    assert "Nothing is waiting" in browser(staff).get("/en/moderation/").content.decode()
    audit = browser(staff).get("/en/moderation/audit/?q=Hateful").content.decode()
    assert audit.count('class="audit-line"') == 1 and "contests.entry" in audit
    assert (
        browser(staff)
        .get("/en/moderation/audit/?q=nothing-like-it")
        .content.decode()
        .count('class="audit-line"')
        == 0
    )


def test_the_author_reads_the_decision_appeals_once_and_staff_decide_it():
    entry = enter(published(make_user()))
    staff = staff_user()
    decision = services.content_hide(
        staff=staff, kind="contests.entry", object_id=entry.pk, reason="Nudity."
    )
    author = browser(entry.entrant)
    url = f"/en/moderation/decisions/{decision.pk}/"
    page = author.get(url).content.decode()
    assert "Nudity." in page and 'name="text"' in page
    assert browser(make_user()).get(url).status_code == 404

    author.post(url, {"text": "It is a classical statue."})

    page = author.get(url).content.decode()
    assert "It is a classical statue." in page and 'name="text"' not in page
    appeals = browser(staff).get("/en/moderation/?status=appeals").content.decode()
    assert "It is a classical statue." in appeals
    browser(staff).post(
        f"/en/moderation/appeals/{decision.pk}/", {"decision": "overturn", "reason": "Agreed."}
    )
    assert Entry.objects.get(pk=entry.pk).hidden_at is None
    assert Decision.objects.get(pk=decision.pk).appeal == Decision.Appeal.OVERTURNED


def test_the_user_page_suspends_and_reinstates():
    person, staff = make_user(), staff_user()
    page = browser(staff)
    page.post(
        f"/en/moderation/users/{person.pk}/",
        {"action": "suspend", "reason": "Repeated spam.", "days": "3"},
    )
    assert not User.objects.get(pk=person.pk).is_active
    assert "Repeated spam." in page.get(f"/en/moderation/users/{person.pk}/").content.decode()
    page.post(f"/en/moderation/users/{person.pk}/", {"action": "reinstate", "reason": "Ok."})
    assert User.objects.get(pk=person.pk).is_active
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("id")) == [
        "suspend",
        "reinstate",
    ]


def test_the_console_shows_platform_figures_and_links_the_records():
    contest = published(make_user())
    held = escrow_of(contest)
    services.report_create(
        user=make_user(), kind="contests.contest", object_id=contest.pk, reason=Reason.SCAM
    )
    page = browser(staff_user()).get("/en/moderation/console/").content.decode()
    assert f'id="fig-escrow">€\xa0{held // 100:,}.{held % 100:02d}</p>' in page
    assert 'id="fig-reports"><a href="/en/moderation/">1</a>' in page
    for link in ["/admin/accounts/user/", "/admin/contests/contest/", "/admin/ledger/"]:
        assert link in page


def test_the_admin_is_read_only_for_staff(settings: Any):
    staff = staff_user()
    contest = published(make_user())
    session = browser(staff)
    for url in [
        "/en/admin/accounts/user/",
        "/en/admin/accounts/organisation/",
        "/en/admin/contests/contest/",
        "/en/admin/microtasks/batch/",
        "/en/admin/ledger/journalentry/",
        "/en/admin/ledger/ledgeraccount/",
        "/en/admin/moderation/auditentry/",
    ]:
        assert session.get(url).status_code == 200, url
    assert session.get("/en/admin/contests/contest/add/").status_code == 403
    change = session.post(f"/en/admin/contests/contest/{contest.pk}/change/", {"title": "x"})
    assert change.status_code == 403
    assert session.get(f"/en/admin/contests/contest/{contest.pk}/delete/").status_code == 403
    assert browser(make_user()).get("/en/admin/contests/contest/").status_code == 302

    # Other apps' editable admins (allauth's addresses, groups, sites, the task queue) are
    # not served, not even to a superuser.
    root = make_user(is_staff=True)
    User.objects.filter(pk=root.pk).update(is_superuser=True)
    superuser = browser(User.objects.get(pk=root.pk))
    for url in [
        "/en/admin/account/emailaddress/add/",
        "/en/admin/auth/group/add/",
        "/en/admin/sites/site/add/",
        "/en/admin/django_tasks_database/dbtaskresult/",
        "/en/admin/mfa/authenticator/",
    ]:
        assert superuser.get(url).status_code == 404, url


def test_the_admin_speaks_dutch():
    contest = published(make_user())
    session = browser(staff_user())

    index = session.get("/nl/admin/").content.decode()
    for dutch in [
        "Gebruikers",
        "Organisaties",
        "Wedstrijden",
        "Batches",
        "Grootboekrekeningen",
        "Journaalposten",
        "Stortingen",
        "Uitbetalingen",
        "Meldingen",
        "Besluiten",
        "Sancties",
        "Auditregels",
    ]:
        assert f">{dutch}</a>" in index, dutch
    for english in [
        "Users",
        "Organisations",
        "Contests",
        "Ledger accounts",
        "Audit entr",
        "Model name",  # the headers for screen readers, which Django's catalogue lacks
        "Add link",
        "Change or view list link",
    ]:
        assert english not in index, english

    changelist = session.get("/nl/admin/contests/contest/").content.decode()
    for header in ["Titel", "Status", "Besloten wedstrijd", "Gefinancierd bedrag"]:
        assert f">{header}</a></div>" in changelist, header
    assert "Funded amount" not in changelist and "Created at" not in changelist
    # Money as money, in the reader's notation (the form's field still says it is cents).
    contest.refresh_from_db()
    funded = contest.funded_amount
    assert f"€\xa0{funded // 100:,}".replace(",", ".") + f",{funded % 100:02d}" in changelist

    change = session.get(f"/nl/admin/contests/contest/{contest.pk}/change/").content.decode()
    assert "wedstrijd weergeven" in change
    assert "Gepubliceerd op:" in change and "Aangemaakt door:" in change
    assert "Published at" not in change and "Created by" not in change

    users = session.get("/nl/admin/accounts/user/").content.decode()
    assert "waarschuwen · schorsen · verbannen" in users
    assert "warn · suspend · ban" not in users


def test_the_admin_names_moderation_records_in_the_readers_language():
    """They were English codes ('report 1 on contests.entry:2', 'hide of …') on a Dutch page."""
    entry = enter(published(make_user()))
    staff = staff_user()
    report = services.report_create(
        user=make_user(), kind="contests.entry", object_id=entry.pk, reason=Reason.ABUSE
    )
    decision = services.content_hide(
        staff=staff, kind="contests.entry", object_id=entry.pk, reason="Hateful text."
    )
    sanction = services.user_warn(staff=staff, user_id=entry.entrant_id, reason="Be kind.")
    audit = AuditEntry.objects.filter(target_kind="contests.entry").latest("pk")
    session = browser(staff)
    with translation.override("nl"):
        names = {
            "report": f"melding {report.pk} · contests.entry:{entry.pk}",
            "decision": f"besluit {decision.pk} · {decision.get_action_display()} · contests.",
            "sanction": f"sanctie {sanction.pk} · {sanction.get_kind_display()} · gebruiker",
            "auditentry": f"auditregel {audit.pk} · ",
        }
    pks = {"report": report.pk, "decision": decision.pk, "sanction": sanction.pk}
    pks["auditentry"] = audit.pk
    for path, name in names.items():
        page = session.get(f"/nl/admin/moderation/{path}/{pks[path]}/change/").content.decode()
        assert name in page, (path, name)
        assert " on contests." not in page and " of user " not in page, path


def test_the_queue_speaks_dutch():
    page = browser(staff_user()).get("/nl/moderation/").content.decode()
    assert "Meldingen" in page and "Auditlog" in page and "Niets gevonden" not in page
