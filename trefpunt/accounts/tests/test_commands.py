from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from trefpunt.accounts import demo
from trefpunt.accounts.demo import people
from trefpunt.accounts.models import ApiToken, Membership, Organisation, PortfolioItem, User
from trefpunt.accounts.services import api_token_authenticate
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.ledger.models import Deposit, JournalEntry
from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user

pytestmark = pytest.mark.django_db
PASS = "a-long-pass-phrase"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("createuser", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_createuser_makes_a_verified_user_with_profile():
    out, _err = run(
        "--email", "Ops@Example.org", "--password", "a-long-pass-phrase", "--name", "Ops"
    )
    user = User.objects.get(email="ops@example.org")
    assert user.check_password("a-long-pass-phrase")
    assert not user.is_staff
    assert EmailAddress.objects.get(user=user).verified
    assert user.profile.display_name == "Ops"
    assert "Created user ops@example.org (@ops)" in out
    assert not ApiToken.objects.exists()


def test_createuser_with_staff_makes_a_staff_user():
    run("--email", "boss@example.org", "--password", "a-long-pass-phrase", "--staff")
    user = User.objects.get(email="boss@example.org")
    assert user.is_staff and user.is_superuser


def test_createuser_with_token_prints_only_a_working_token():
    out, err = run("--email", "ci@example.org", "--password", "a-long-pass-phrase", "--token")
    lines = out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("tp_")
    assert api_token_authenticate(lines[0]) == User.objects.get(email="ci@example.org")
    assert "ci@example.org" in err


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--email", "not-an-email", "--password", "a-long-pass-phrase"], "--email"),
        (["--email", "taken@example.org", "--password", "a-long-pass-phrase"], "--email"),
        (["--email", "new@example.org", "--password", "short"], "--password"),
        (
            ["--email", "new@example.org", "--password", "a-long-pass-phrase", "--handle", "x"],
            "--handle",
        ),
        (
            ["--email", "new@example.org", "--password", "a-long-pass-phrase", "--name", "n" * 81],
            "--name",
        ),
        (["--email", "new@example.org"], "--password"),
    ],
)
def test_createuser_with_bad_input_names_the_option_and_saves_nothing(args, option):
    UserFactory.create(email="taken@example.org")
    before = (User.objects.count(), ApiToken.objects.count())
    with pytest.raises(CommandError) as caught:
        run(*args, "--token")
    assert option in str(caught.value)
    assert (User.objects.count(), ApiToken.objects.count()) == before


def test_demo_load_creates_people_organisations_and_funded_wallets_once():
    out = io.StringIO()
    assert demo.load(out) == []
    crowd = [User.objects.get(email=p.email) for p in people.CROWD]
    assert len(crowd) >= 24
    assert all(u.profile.avatar for u in crowd)
    assert len({u.profile.handle for u in crowd}) == len(crowd)
    assert Organisation.objects.count() == 3
    assert Membership.objects.filter(role="admin").count() == 2
    assert PortfolioItem.objects.count() >= 5
    for person in [*people.CLIENTS, *people.CROWD]:
        user = User.objects.get(email=person.email)
        assert wallet_for_user(user=user).balance == person.wallet_cents
    for org in people.ORGS:
        wallet = wallet_for_organisation(organisation=Organisation.objects.get(slug=org.slug))
        assert wallet.balance == org.wallet_cents
    assert User.objects.get(email=people.STAFF.email).is_staff
    # Without the other apps' demos only two of the roles have someone to show.
    logins = demo.demo_logins()
    assert [role for role, _e, _p in logins] == ["organisation owner", "staff"]
    for _role, email, password in logins:
        assert User.objects.get(email=email).check_password(password)
    counts = (User.objects.count(), Deposit.objects.count(), JournalEntry.objects.count())
    demo.load(io.StringIO())
    assert (User.objects.count(), Deposit.objects.count(), JournalEntry.objects.count()) == counts
    assert demo.demo_logins() == logins


def test_demo_people_ensure_fills_an_empty_database_for_the_other_demos_once():
    clients, organisations, crowd = demo.demo_people()
    assert (clients, organisations, crowd) == ([], [], [])
    demo.demo_people_ensure(clients, crowd)
    assert (len(clients), len(crowd)) == (2, 8)
    assert all(u.check_password(demo.PASSWORD) for u in [*clients, *crowd])
    again_clients: list[User] = []
    again_crowd: list[User] = []
    demo.demo_people_ensure(again_clients, again_crowd)
    assert (again_clients, again_crowd) == (clients, crowd)
    assert User.objects.count() == 10
