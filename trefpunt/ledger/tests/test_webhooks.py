"""The provider webhook (``/pay/webhook/<provider>/``) and the sandbox checkout page.

Only an authentic, fresh, matching notification books money, once."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import time_machine
from django.test import Client

from trefpunt.accounts.models import User
from trefpunt.ledger.models import Deposit, JournalEntry, LedgerAccount, WebhookEvent
from trefpunt.ledger.providers.sandbox import (
    SIGNATURE_HEADER,
    TOLERANCE_SECONDS,
    sandbox_notification,
    sandbox_sign,
)
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import deposit_create, wallet_for_user

pytestmark = pytest.mark.django_db

WEBHOOK = "/pay/webhook/sandbox/"


@pytest.fixture
def deposit(user: User) -> Deposit:
    return deposit_create(wallet=wallet_for_user(user=user), user=user, amount=2500)


def post(client: Client, body: bytes, headers: dict[str, str]) -> Any:
    extra = {k: v for k, v in headers.items() if k != "Content-Type"}
    return client.post(WEBHOOK, data=body, content_type="application/json", headers=extra)


def wallet_balance(deposit: Deposit) -> int:
    return LedgerAccount.objects.values_list("balance", flat=True).get(pk=deposit.wallet_id)


def assert_nothing_changed(deposit: Deposit) -> None:
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.PENDING
    assert JournalEntry.objects.count() == 0
    assert WebhookEvent.objects.count() == 0
    assert wallet_balance(deposit) == 0


def test_webhook_view_books_a_signed_payment(client: Client, deposit: Deposit) -> None:
    body = sandbox_notification(deposit, "paid")

    response = post(client, body, sandbox_sign(body))

    assert response.status_code == 200
    assert response.json() == {"status": "paid", "deposit": str(deposit.public_id)}
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.PAID
    assert wallet_balance(deposit) == 2500
    assert ledger_verify() == []


def test_webhook_view_rejects_a_bad_signature(client: Client, deposit: Deposit) -> None:
    body = sandbox_notification(deposit, "paid")

    response = post(client, body, sandbox_sign(body, secret="not-the-shared-secret"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert_nothing_changed(deposit)


def test_webhook_view_rejects_a_missing_signature(client: Client, deposit: Deposit) -> None:
    response = post(client, sandbox_notification(deposit, "paid"), {})

    assert response.status_code == 400
    assert_nothing_changed(deposit)


def test_webhook_view_rejects_a_malformed_signature_header(
    client: Client, deposit: Deposit
) -> None:
    response = post(client, sandbox_notification(deposit, "paid"), {SIGNATURE_HEADER: "v1=abc"})

    assert response.status_code == 400
    assert_nothing_changed(deposit)


def test_webhook_view_rejects_a_tampered_body(client: Client, deposit: Deposit) -> None:
    body = sandbox_notification(deposit, "paid")
    headers = sandbox_sign(body)
    tampered = body.replace(b'"amount":2500', b'"amount":250000')
    assert tampered != body

    response = post(client, tampered, headers)

    assert response.status_code == 400
    assert_nothing_changed(deposit)


def test_webhook_view_rejects_a_stale_timestamp(client: Client, deposit: Deposit) -> None:
    body = sandbox_notification(deposit, "paid")
    headers = sandbox_sign(body)  # signed now, correctly

    with time_machine.travel(time.time() + TOLERANCE_SECONDS + 5):
        response = post(client, body, headers)

    assert response.status_code == 400
    assert "tolerance" in response.json()["error"]["message"]
    assert_nothing_changed(deposit)


def test_webhook_view_replayed_notification_books_nothing_twice(
    client: Client, deposit: Deposit
) -> None:
    body = sandbox_notification(deposit, "paid")
    headers = sandbox_sign(body)

    first = post(client, body, headers)
    replay = post(client, body, headers)

    assert first.json()["status"] == "paid"
    assert replay.status_code == 200
    assert replay.json()["status"] == "duplicate"
    assert JournalEntry.objects.count() == 1
    assert WebhookEvent.objects.count() == 1
    assert wallet_balance(deposit) == 2500


def test_webhook_view_a_second_paid_event_for_one_deposit_books_once(
    client: Client, deposit: Deposit
) -> None:
    body = sandbox_notification(deposit, "paid")
    other_event = json.dumps({**json.loads(body), "id": "evt_another_delivery"}).encode()

    post(client, body, sandbox_sign(body))
    response = post(client, other_event, sandbox_sign(other_event))

    assert response.json()["status"] == "paid"
    assert WebhookEvent.objects.count() == 2
    assert JournalEntry.objects.count() == 1
    assert wallet_balance(deposit) == 2500


def test_webhook_view_refuses_an_amount_that_does_not_match(
    client: Client, deposit: Deposit
) -> None:
    payload = json.loads(sandbox_notification(deposit, "paid"))
    payload["payment"]["amount"] = 250_000
    body = json.dumps(payload).encode()

    response = post(client, body, sandbox_sign(body))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "amount_mismatch"
    assert_nothing_changed(deposit)


def test_webhook_view_refuses_a_currency_that_does_not_match(
    client: Client, deposit: Deposit
) -> None:
    payload = json.loads(sandbox_notification(deposit, "paid"))
    payload["payment"]["currency"] = "USD"
    body = json.dumps(payload).encode()

    response = post(client, body, sandbox_sign(body))

    assert response.status_code == 409
    assert_nothing_changed(deposit)


def test_webhook_view_unknown_payment_is_not_found_and_not_recorded(
    client: Client, deposit: Deposit
) -> None:
    payload = json.loads(sandbox_notification(deposit, "paid"))
    payload["payment"]["ref"] = "sbx_unknown"
    body = json.dumps(payload).encode()

    response = post(client, body, sandbox_sign(body))

    assert response.status_code == 404
    assert_nothing_changed(deposit)


def test_webhook_view_cancellation_closes_the_deposit(client: Client, deposit: Deposit) -> None:
    body = sandbox_notification(deposit, "cancelled")

    response = post(client, body, sandbox_sign(body))

    assert response.json()["status"] == "cancelled"
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.CANCELLED
    assert JournalEntry.objects.count() == 0


def test_webhook_view_unknown_provider_is_not_found(client: Client, deposit: Deposit) -> None:
    body = sandbox_notification(deposit, "paid")

    response = client.post(
        "/pay/webhook/stripe/", data=body, content_type="application/json", headers={}
    )

    assert response.status_code == 404
    assert_nothing_changed(deposit)


def test_webhook_view_only_accepts_post(client: Client) -> None:
    assert client.get(WEBHOOK).status_code == 405


# --- the sandbox checkout page -----------------------------------------------------------


def checkout_url(deposit: Deposit) -> str:
    return f"/pay/sandbox/{deposit.public_id}/"


def test_sandbox_checkout_view_shows_the_amount_and_both_buttons(
    client: Client, user: User, deposit: Deposit
) -> None:
    client.force_login(user)

    response = client.get(checkout_url(deposit))

    assert response.status_code == 200
    html = response.content.decode()
    assert "no real money" in html
    assert "€\xa025.00" in html
    assert 'value="confirm"' in html
    assert 'value="cancel"' in html
    assert "csrfmiddlewaretoken" in html


def test_sandbox_checkout_view_confirm_books_through_the_webhook_path(
    client: Client, user: User, deposit: Deposit
) -> None:
    client.force_login(user)

    response = client.post(checkout_url(deposit), {"action": "confirm"})

    assert response.status_code == 302
    assert response["Location"] == f"/en/wallet/deposit/{deposit.public_id}/"
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.PAID
    assert WebhookEvent.objects.filter(provider="sandbox").count() == 1
    assert wallet_balance(deposit) == 2500


def test_sandbox_checkout_view_cancel_books_nothing(
    client: Client, user: User, deposit: Deposit
) -> None:
    client.force_login(user)

    client.post(checkout_url(deposit), {"action": "cancel"})

    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.CANCELLED
    assert JournalEntry.objects.count() == 0


def test_sandbox_checkout_view_unknown_action_books_nothing(
    client: Client, user: User, deposit: Deposit
) -> None:
    client.force_login(user)

    response = client.post(checkout_url(deposit), {"action": "pay-twice"})

    assert response.status_code == 400
    assert_nothing_changed(deposit)


def test_sandbox_checkout_view_of_someone_elses_deposit_is_not_found(
    client: Client, deposit: Deposit, staff_user: User
) -> None:
    client.force_login(staff_user)

    assert client.get(checkout_url(deposit)).status_code == 404
    assert client.post(checkout_url(deposit), {"action": "confirm"}).status_code == 404
    assert_nothing_changed(deposit)


def test_sandbox_checkout_view_after_payment_goes_to_the_result(
    client: Client, user: User, deposit: Deposit
) -> None:
    client.force_login(user)
    client.post(checkout_url(deposit), {"action": "confirm"})

    again = client.post(checkout_url(deposit), {"action": "confirm"})

    assert again.status_code == 302
    assert JournalEntry.objects.count() == 1
