"""``trefpunt demo`` as a newcomer meets it: one login per role, and a page of every account."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import TestCase

from trefpunt.accounts.demo import PASSWORD, people
from trefpunt.accounts.models import User
from trefpunt.contests.models import Entry
from trefpunt.microtasks.models import Answer

pytestmark = pytest.mark.django_db


def test_demo_accounts_page_is_not_found_without_demo_data(client):
    assert client.get("/en/demo/").status_code == 404


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    """What ``trefpunt demo`` printed, run once for the tests that read its data (loading it
    is the slowest thing these tests do). A test case's class-wide transaction holds its rows
    (as pytest-django's ``db`` does for one test; the demo's durable blocks nest in it) and is
    rolled back after this module."""

    class Demo(TestCase):
        pass

    with django_db_blocker.unblock():
        Demo.setUpClass()
        try:
            out = io.StringIO()
            call_command("demo", stdout=out)
            yield out.getvalue()
        finally:
            Demo.tearDownClass()


def test_demo_prints_one_working_login_per_role_and_the_accounts_page(client, demo_output):
    lines = [line.split() for line in demo_output.splitlines() if "@example.com" in line]
    emails = {line[-2]: " ".join(line[:-2]) for line in lines}
    assert list(emails.values()) == [
        "client",
        "organisation owner",
        "crowd member who won",
        "worker",
        "staff",
    ]
    by_role = {role: email for email, role in emails.items()}
    for email in emails:
        assert User.objects.get(email=email).check_password(PASSWORD)
    assert Entry.objects.filter(entrant__email=by_role["crowd member who won"], status="winner")
    assert Answer.objects.filter(worker__email=by_role["worker"]).exists()
    assert User.objects.get(email=by_role["staff"]).is_staff
    assert "/en/demo/" in demo_output

    page = client.get("/en/demo/")
    assert page.status_code == 200
    html = page.content.decode()
    for person in people.EVERYONE:
        assert person.email in html
    assert PASSWORD in html


def test_demo_logos_differ_and_the_one_planted_copy_is_flagged(demo_output):
    """The demo's entries are generated logos (PNG, a wordmark on a board); the originality
    check flags the planted copy ("Round wheat" of "Wheat circle") and nothing else."""
    from PIL import Image

    from trefpunt.contests.models import EntryFlag

    flags = EntryFlag.objects.filter(kind=EntryFlag.Kind.NEAR_DUPLICATE)
    assert {(f.entry.title, f.other_entry.title) for f in flags} == {  # type: ignore[union-attr]
        ("Round wheat", "Wheat circle")
    }
    entry = Entry.objects.get(title="Wheat circle")
    stored = entry.versions.latest("pk").files.first()
    assert stored is not None
    with stored.file.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "PNG" and image.size == (960, 720)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 50  # not flat
