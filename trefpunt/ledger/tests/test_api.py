"""The wallet API at /api/v1/wallet: figures, history, deposits, payouts, idempotency."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trefpunt.accounts.models import Organisation, User
from trefpunt.accounts.services import api_token_create
from trefpunt.ledger.models import Deposit, EntryKind, JournalEntry, LedgerAccount, Payout
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import (
    deposit_create,
    escrow_account,
    escrow_fund,
    escrow_refund,
    wallet_for_organisation,
    wallet_for_user,
)
from trefpunt.ledger.tests.factories import fund_wallet, funded_wallet

from .conftest import BAD_CHECKSUM_IBAN

pytestmark = pytest.mark.django_db

API = "/api/v1/wallet"


class Api:
    """A script's view of the API: a personal access token on every request."""

    def __init__(self, user: User) -> None:
        _token, raw = api_token_create(user=user, name="test script")
        self.client = Client()
        self.auth = {"Authorization": f"Bearer {raw}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params, headers=self.auth)

    def post(self, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        headers = dict(self.auth)
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(API + path, body, content_type="application/json", headers=headers)


def balance(account: LedgerAccount) -> int:
    return LedgerAccount.objects.values_list("balance", flat=True).get(pk=account.pk)


# --- figures and history ---------------------------------------------------------------


def test_wallet_get_api_returns_the_figures(user: User) -> None:
    wallet = funded_wallet(user, 9000)
    escrow = escrow_account(reference="contest:3", funder=wallet)
    escrow_fund(wallet=wallet, escrow=escrow, amount=2000, idempotency_key="c3:fund")

    response = Api(user).get("")

    assert response.status_code == 200
    assert response.json() == {
        "balance": 7000,
        "in_escrow": 2000,
        "payouts_pending": 0,
        "currency": "EUR",
        "organisation": None,
    }


def test_wallet_get_api_needs_authentication(client: Client) -> None:
    response = client.get(API)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_wallet_get_api_for_an_organisation_the_caller_administers(
    organisation: Organisation, org_owner: User, org_admin: User
) -> None:
    fund_wallet(wallet_for_organisation(organisation=organisation), org_owner, 4000)

    response = Api(org_admin).get("", organisation=organisation.slug)

    assert response.status_code == 200
    assert response.json()["balance"] == 4000
    assert response.json()["organisation"] == organisation.slug


def test_wallet_get_api_for_an_organisation_is_not_found_for_members_and_strangers(
    organisation: Organisation, org_member: User, other_user: User
) -> None:
    for person in (org_member, other_user):
        response = Api(person).get("", organisation=organisation.slug)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_transaction_list_api_pages_the_history_newest_first(user: User) -> None:
    wallet = funded_wallet(user, 5000)
    escrow = escrow_account(reference="contest:3", funder=wallet, label="Prize")
    escrow_fund(
        wallet=wallet, escrow=escrow, amount=2000, idempotency_key="f", description="Logo prize"
    )
    api = Api(user)

    first = api.get("/transactions", limit=1).json()
    second = api.get("/transactions", limit=1, offset=1).json()

    assert first["count"] == 2
    assert first["next_offset"] == 1
    assert second["next_offset"] is None
    line = first["items"][0]
    assert {k: line[k] for k in ("kind", "kind_label", "description", "reference", "amount")} == {
        "kind": "escrow_fund",
        "kind_label": "Moved into escrow",
        "description": "Logo prize",
        "reference": "contest:3",
        "amount": -2000,
    }
    assert line["id"] == JournalEntry.objects.get(kind=EntryKind.ESCROW_FUND).pk
    assert second["items"][0]["kind"] == "deposit"
    assert second["items"][0]["amount"] == 5000


def test_transaction_list_api_refuses_a_limit_over_100_naming_it(user: User) -> None:
    response = Api(user).get("/transactions", limit=101)

    assert response.status_code == 422
    assert "limit" in response.json()["error"]["fields"]


def test_transaction_list_api_query_count_does_not_grow_with_lines(user: User) -> None:
    wallet = funded_wallet(user, 1000)
    api = Api(user)

    assert api.get("/transactions").status_code == 200  # the token's first use is recorded

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/transactions", limit=50).status_code == 200
        return len(captured)

    few = queries()
    escrow = escrow_account(reference="contest:busy", funder=wallet)
    for i in range(30):
        escrow_fund(wallet=wallet, escrow=escrow, amount=10, idempotency_key=f"f{i}")
        escrow_refund(escrow=escrow, wallet=wallet, amount=10, idempotency_key=f"r{i}")

    assert queries() == few


# --- deposits ------------------------------------------------------------------------------


def test_deposit_create_api_returns_an_absolute_checkout_url(user: User) -> None:
    response = Api(user).post("/deposits", {"amount": 2500, "return_path": "/en/contests/3/"})

    assert response.status_code == 201
    body = response.json()
    deposit = Deposit.objects.get()
    assert body["id"] == str(deposit.public_id)
    assert body["status"] == "pending"
    assert body["amount"] == 2500
    assert body["return_path"] == "/en/contests/3/"
    assert body["checkout_url"] == f"{settings.SITE_URL}/pay/sandbox/{deposit.public_id}/"
    assert JournalEntry.objects.count() == 0


def test_deposit_create_api_into_an_organisation_wallet(
    organisation: Organisation, org_owner: User
) -> None:
    response = Api(org_owner).post("/deposits", {"amount": 2500, "organisation": organisation.slug})

    assert response.status_code == 201
    assert response.json()["organisation"] == organisation.slug
    assert Deposit.objects.get().wallet == wallet_for_organisation(organisation=organisation)


def test_deposit_create_api_into_an_organisation_wallet_is_not_found_for_members(
    organisation: Organisation, org_member: User
) -> None:
    response = Api(org_member).post(
        "/deposits", {"amount": 2500, "organisation": organisation.slug}
    )

    assert response.status_code == 404
    assert Deposit.objects.count() == 0


@pytest.mark.parametrize("amount", [0, -100, "abc", 12.5, "2500", 10_000_001, None, True], ids=repr)
def test_deposit_create_api_refuses_bad_amounts_naming_the_field(user: User, amount: Any) -> None:
    response = Api(user).post("/deposits", {"amount": amount})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["amount"]
    assert Deposit.objects.count() == 0


def test_deposit_create_api_refuses_a_return_path_off_the_site(user: User) -> None:
    response = Api(user).post("/deposits", {"amount": 2500, "return_path": "https://evil.example/"})

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["return_path"]
    assert Deposit.objects.count() == 0


def test_deposit_create_api_replays_a_repeated_idempotency_key(user: User) -> None:
    api = Api(user)

    first = api.post("/deposits", {"amount": 2500}, key="deposit-1")
    again = api.post("/deposits", {"amount": 2500}, key="deposit-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Deposit.objects.count() == 1


def test_deposit_create_api_same_key_with_another_body_is_refused(user: User) -> None:
    api = Api(user)
    api.post("/deposits", {"amount": 2500}, key="deposit-1")

    response = api.post("/deposits", {"amount": 9900}, key="deposit-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Deposit.objects.count() == 1


def test_deposit_create_api_passes_the_key_down_to_the_service(user: User) -> None:
    """If the stored answer is lost (a crash after the booking), the retry still finds the
    first deposit through the service's own key."""
    from trefpunt.core.models import IdempotencyRecord

    api = Api(user)
    first = api.post("/deposits", {"amount": 2500}, key="deposit-1").json()
    IdempotencyRecord.objects.all().delete()

    again = api.post("/deposits", {"amount": 2500}, key="deposit-1")

    assert again.json()["id"] == first["id"]
    assert Deposit.objects.count() == 1


def test_deposit_get_api_returns_own_deposits_only(user: User, other_user: User) -> None:
    deposit = deposit_create(wallet=wallet_for_user(user=user), user=user, amount=2500)

    own = Api(user).get(f"/deposits/{deposit.public_id}")
    others = Api(other_user).get(f"/deposits/{deposit.public_id}")
    malformed = Api(user).get("/deposits/not-a-uuid")

    assert own.status_code == 200
    assert own.json()["status"] == "pending"
    assert others.status_code == 404
    assert malformed.status_code == 404


# --- payouts --------------------------------------------------------------------------------


def payout_body(**overrides: Any) -> dict[str, Any]:
    return {"amount": 3000, "iban": "NL91 ABNA 0417 1643 00", "account_holder": "A. Member"} | (
        overrides
    )


def test_payout_create_api_requests_a_payout(user: User) -> None:
    wallet = funded_wallet(user, 5000)

    response = Api(user).post("/payouts", payout_body())

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "requested"
    assert body["amount"] == 3000
    assert body["iban"] == "NL91 •••• 4300"
    assert balance(wallet) == 2000
    assert ledger_verify() == []


def test_payout_create_api_refuses_a_bad_iban_naming_the_field(user: User) -> None:
    wallet = funded_wallet(user, 5000)

    response = Api(user).post("/payouts", payout_body(iban=BAD_CHECKSUM_IBAN))

    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["iban"]
    assert "check digits do not match" in fields["iban"][0]
    assert Payout.objects.count() == 0
    assert balance(wallet) == 5000


def test_payout_create_api_refuses_more_than_the_balance(user: User) -> None:
    wallet = funded_wallet(user, 5000)

    response = Api(user).post("/payouts", payout_body(amount=5001))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_funds"
    assert "€\xa050.00" in error["message"]
    assert list(error["fields"]) == ["amount"]
    assert Payout.objects.count() == 0
    assert balance(wallet) == 5000


def test_payout_create_api_refuses_missing_fields_naming_them(user: User) -> None:
    response = Api(user).post("/payouts", {"amount": 3000})

    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"iban", "account_holder"}


def test_payout_create_api_replays_a_repeated_idempotency_key(user: User) -> None:
    wallet = funded_wallet(user, 9000)
    api = Api(user)
    entries_before = JournalEntry.objects.count()

    first = api.post("/payouts", payout_body(), key="payout-1")
    again = api.post("/payouts", payout_body(), key="payout-1")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payout.objects.count() == 1
    assert JournalEntry.objects.count() == entries_before + 1
    assert balance(wallet) == 6000


def test_payout_create_api_same_key_with_another_body_is_refused(user: User) -> None:
    wallet = funded_wallet(user, 9000)
    api = Api(user)
    api.post("/payouts", payout_body(), key="payout-1")

    response = api.post("/payouts", payout_body(amount=4000), key="payout-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert balance(wallet) == 6000


def test_payout_list_api_lists_the_wallets_payouts(user: User, other_user: User) -> None:
    funded_wallet(user, 9000)
    funded_wallet(other_user, 9000)
    Api(user).post("/payouts", payout_body())
    Api(other_user).post("/payouts", payout_body(amount=4000))

    response = Api(user).get("/payouts")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [p["amount"] for p in response.json()["items"]] == [3000]
