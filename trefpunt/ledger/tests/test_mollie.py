from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from trefpunt.accounts.models import User
from trefpunt.ledger.models import Deposit, WebhookEvent
from trefpunt.ledger.services import deposit_create, wallet_for_user

from .fake_mollie import API_KEY, FakeMollie, fake_mollie

pytestmark = pytest.mark.django_db
WEBHOOK = "/pay/webhook/mollie/"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def mollie(settings) -> Iterator[FakeMollie]:
    with fake_mollie() as fake:
        settings.MOLLIE_API_KEY = API_KEY
        settings.MOLLIE_API_ENDPOINT = fake.url
        yield fake


def start(user: User, amount: int = 2500) -> Deposit:
    return deposit_create(
        wallet=wallet_for_user(user=user), user=user, amount=amount, provider="mollie"
    )


def notify(payment_id: str) -> Any:
    # What Mollie sends: a form body with the payment's id, nothing signed.
    return Client().post(WEBHOOK, f"id={payment_id}", content_type=FORM)


def balance(user: User) -> int:
    return wallet_for_user(user=user).balance


def ledger_clean() -> bool:
    err = StringIO()
    call_command("ledger_check", stdout=StringIO(), stderr=err)
    return err.getvalue() == ""


def test_the_sandbox_stays_the_default_provider(settings):
    assert settings.PAYMENT_PROVIDER == "sandbox"


def test_a_mollie_deposit_completes_through_the_webhook(mollie, user):
    deposit = start(user)
    (sent,) = mollie.created
    assert sent["amount"] == {"currency": "EUR", "value": "25.00"}
    assert sent["webhookUrl"].endswith(WEBHOOK)
    assert sent["metadata"] == {"deposit": str(deposit.public_id)}
    assert deposit.provider_ref.startswith("tr_")
    assert deposit.checkout_url == f"{mollie.url}/checkout/{deposit.provider_ref}"

    mollie.settle(deposit.provider_ref, "paid")
    answer = notify(deposit.provider_ref)

    assert answer.status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.PAID
    assert balance(user) == 2500
    assert ledger_clean()


def test_a_replayed_mollie_webhook_credits_nothing(mollie, user):
    deposit = start(user)
    mollie.settle(deposit.provider_ref, "paid")
    assert notify(deposit.provider_ref).status_code == 200
    again = notify(deposit.provider_ref)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert balance(user) == 2500
    assert WebhookEvent.objects.filter(provider="mollie").count() == 1


def test_an_unknown_or_unfinished_payment_credits_nothing(mollie, user):
    deposit = start(user)
    assert notify("tr_doesnotexist").status_code == 400  # Mollie: 404
    assert notify(deposit.provider_ref).status_code == 400  # still open at Mollie
    assert Client().post(WEBHOOK, "", content_type=FORM).status_code == 400
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.PENDING
    assert balance(user) == 0
    assert not WebhookEvent.objects.exists()


def test_a_failed_mollie_payment_credits_nothing(mollie, user):
    deposit = start(user)
    mollie.settle(deposit.provider_ref, "failed")
    assert notify(deposit.provider_ref).status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.FAILED
    # A later "paid" for it would be a new fact from Mollie; a replay of "failed" is not.
    assert notify(deposit.provider_ref).json()["status"] == "duplicate"
    assert balance(user) == 0
    assert ledger_clean()


def test_a_paid_amount_that_differs_from_the_deposit_credits_nothing(mollie, user):
    deposit = start(user)
    mollie.settle(deposit.provider_ref, "paid", amount={"currency": "EUR", "value": "2500.00"})
    answer = notify(deposit.provider_ref)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "amount_mismatch"
    assert balance(user) == 0


def test_a_mollie_outage_fails_the_deposit_cleanly(settings, user):
    settings.MOLLIE_API_KEY = API_KEY
    with fake_mollie() as gone:
        settings.MOLLIE_API_ENDPOINT = gone.url
    from trefpunt.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        start(user)
    assert refused.value.code == "provider_unavailable"
    assert Deposit.objects.get().status == Deposit.Status.FAILED


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_concurrent_mollie_webhooks_for_one_payment_book_once(settings):
    from trefpunt.core.testing import run_concurrently
    from trefpunt.ledger.selectors import ledger_verify
    from trefpunt.ledger.services import webhook_receive

    from .conftest import new_user

    member = new_user()
    with fake_mollie() as mollie:
        settings.MOLLIE_API_KEY = API_KEY
        settings.MOLLIE_API_ENDPOINT = mollie.url
        deposit = start(member)
        mollie.settle(deposit.provider_ref, "paid")
        body = f"id={deposit.provider_ref}".encode()
        results = run_concurrently(
            lambda i: webhook_receive(provider="mollie", body=body, headers={}), workers=3
        )
    assert sorted(r[0] for r in results) == ["duplicate", "duplicate", "paid"], results
    assert balance(member) == 2500
    assert ledger_verify() == []
