"""Publish, award, guarantee and cancel: every cent accounted for after each flow."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from trefpunt.accounts.models import PortfolioItem
from trefpunt.contests.models import Contest, Entry, Handover, Payment
from trefpunt.contests.selectors import contest_funding
from trefpunt.contests.services import (
    contest_award,
    contest_cancel,
    contest_close_entries,
    contest_deposit_shortfall,
    contest_guarantee,
    contest_publish,
    entry_decline,
    entry_decline_review,
    entry_finalist_set,
    entry_withdraw,
    split_equally,
)
from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)
from trefpunt.core.models import Event
from trefpunt.ledger.models import Deposit, JournalEntry
from trefpunt.ledger.services import wallet_for_organisation
from trefpunt.ledger.tests.factories import funded_wallet

from .factories import (
    assert_money_consistent,
    draft,
    enter,
    escrow_of,
    judging_end,
    make_organisation,
    make_user,
    published,
    revenue,
    wallet_balance,
)

pytestmark = pytest.mark.django_db


def _judging(contest: Contest) -> Contest:
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        return contest_close_entries(contest_id=contest.pk)


def test_contest_publish_moves_prizes_stipends_and_fee_into_escrow():
    client = make_user()
    contest = draft(client, prizes=[30000, 10000], finalist_stipend=2000, finalists_max=3)
    funded_wallet(client, 60000)
    published_contest = contest_publish(contest_id=contest.pk, user=client)
    # pool 40000 + stipends 3 × 2000 = 46000; client fee 10 % = 4600
    assert published_contest.status == Contest.Status.OPEN
    assert published_contest.funded_amount == 50600
    assert published_contest.client_fee == 4600
    assert escrow_of(contest) == 50600
    assert wallet_balance(client) == 60000 - 50600
    assert_money_consistent()


def test_contest_publish_with_too_little_money_moves_nothing_and_names_the_shortfall():
    client = make_user()
    contest = draft(client, prizes=[30000])
    funded_wallet(client, 10000)
    with pytest.raises(InsufficientFunds) as exc:
        contest_publish(contest_id=contest.pk, user=client)
    assert exc.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert "230.00" in exc.value.fields["wallet"][0]  # 33000 needed, 10000 held
    contest.refresh_from_db()
    assert contest.status == Contest.Status.DRAFT
    assert wallet_balance(client) == 10000
    assert escrow_of(contest) == 0
    assert not JournalEntry.objects.filter(reference=f"contest:{contest.pk}").exists()
    assert_money_consistent()


def test_contest_deposit_shortfall_asks_for_exactly_the_missing_amount_then_publish_works():
    client = make_user()
    contest = draft(client, prizes=[30000])
    funded_wallet(client, 10000)
    funding = contest_funding(contest=contest)
    assert funding.shortfall == 23000
    deposit = contest_deposit_shortfall(
        contest_id=contest.pk, user=client, return_path=f"/en/contests/{contest.pk}/publish/"
    )
    assert deposit.amount == 23000
    assert deposit.return_path == f"/en/contests/{contest.pk}/publish/"
    assert deposit.status == Deposit.Status.PENDING
    from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
    from trefpunt.ledger.services import webhook_receive

    body = sandbox_notification(deposit, "paid")
    webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))
    contest_publish(contest_id=contest.pk, user=client)
    assert wallet_balance(client) == 0
    assert escrow_of(contest) == 33000
    assert_money_consistent()


def test_contest_deposit_shortfall_is_raised_to_the_smallest_deposit(settings):
    settings.MIN_DEPOSIT_CENTS = 500
    client = make_user()
    contest = draft(client, prizes=[1000])  # 1100 with fee
    funded_wallet(client, 900)
    deposit = contest_deposit_shortfall(contest_id=contest.pk, user=client, return_path="/")
    assert deposit.amount == 500


def test_contest_deposit_shortfall_is_refused_when_the_wallet_holds_enough():
    client = make_user()
    contest = draft(client, prizes=[1000])
    funded_wallet(client, 5000)
    with pytest.raises(Conflict) as exc:
        contest_deposit_shortfall(contest_id=contest.pk, user=client, return_path="/")
    assert exc.value.code == ErrorCode.NO_SHORTFALL
    assert not Deposit.objects.filter(status=Deposit.Status.PENDING).exists()


def test_contest_publish_for_an_organisation_pays_from_its_wallet():
    owner = make_user()
    organisation = make_organisation(owner)
    contest = published(owner, organisation=organisation, prizes=[20000])
    assert wallet_for_organisation(organisation=organisation).balance == 0
    assert escrow_of(contest) == 22000
    assert wallet_balance(owner) == 0
    assert_money_consistent()


def test_contest_publish_by_someone_else_is_not_found():
    contest = draft(make_user())
    stranger = make_user()
    funded_wallet(stranger, 100000)
    with pytest.raises(NotFound):
        contest_publish(contest_id=contest.pk, user=stranger)
    assert wallet_balance(stranger) == 100000


def test_contest_publish_twice_is_refused_and_pays_once():
    client = make_user()
    contest = published(client, deposit=70000)
    with pytest.raises(Conflict) as exc:
        contest_publish(contest_id=contest.pk, user=client)
    assert exc.value.code == ErrorCode.WRONG_STATE
    assert wallet_balance(client) == 70000 - 33000
    assert_money_consistent()


def test_contest_publish_with_the_same_idempotency_key_returns_the_first_result():
    client = make_user()
    contest = draft(client)
    funded_wallet(client, 70000)
    first = contest_publish(contest_id=contest.pk, user=client, idempotency_key="k1")
    again = contest_publish(contest_id=contest.pk, user=client, idempotency_key="k1")
    assert first.pk == again.pk and again.status == Contest.Status.OPEN
    assert wallet_balance(client) == 70000 - 33000
    assert (
        Event.objects.filter(subject="contest", subject_id=contest.pk, kind="published").count()
        == 1
    )


def test_contest_publish_refuses_a_deadline_that_has_passed_meanwhile():
    client = make_user()
    contest = draft(client)
    funded_wallet(client, 70000)
    with (
        time_machine.travel(contest.entry_deadline + timedelta(hours=1), tick=False),
        pytest.raises(ValidationFailed) as exc,
    ):
        contest_publish(contest_id=contest.pk, user=client)
    assert "entry_deadline" in exc.value.fields
    assert wallet_balance(client) == 70000


def test_contest_award_pays_prize_minus_crowd_fee_and_fees_to_revenue():
    client = make_user()
    contest = published(client, prizes=[30000])
    winner = enter(contest)
    other = enter(contest)
    _judging(contest)
    contest_award(contest_id=contest.pk, user=client, awards={1: winner.pk})
    contest.refresh_from_db()
    assert contest.status == Contest.Status.AWARDED
    assert wallet_balance(winner.entrant) == 30000 - 1500
    assert wallet_balance(other.entrant) == 0
    assert revenue() == 1500 + 3000
    assert escrow_of(contest) == 0
    assert wallet_balance(client) == 0
    winner.refresh_from_db()
    other.refresh_from_db()
    assert winner.status == Entry.Status.WINNER
    assert other.status == Entry.Status.NOT_SELECTED
    assert Handover.objects.filter(entry=winner).exists()
    payment = Payment.objects.get(entry=winner)
    assert (payment.gross, payment.crowd_fee, payment.client_fee, payment.net) == (
        30000,
        1500,
        3000,
        28500,
    )
    assert payment.journal_entry.idempotency_key == f"contest:{contest.pk}:prize:1"
    assert payment.journal_entry.postings.count() == 3
    assert_money_consistent()


def test_contest_award_pays_stipends_and_refunds_the_unused_budget_with_its_fee():
    client = make_user()
    contest = published(
        client, prizes=[30000, 10000], finalist_stipend=2000, finalists_max=3, deposit=50600
    )
    a, b, c, d = (enter(contest) for _ in range(4))
    entry_finalist_set(entry_id=a.pk, user=client, finalist=True)
    entry_finalist_set(entry_id=b.pk, user=client, finalist=True)
    _judging(contest)
    contest_award(contest_id=contest.pk, user=client, awards={1: a.pk, 2: c.pk})
    # a wins prize 1 (finalist, no stipend); c wins prize 2; b is a finalist who did not win.
    assert wallet_balance(a.entrant) == 30000 - 1500
    assert wallet_balance(c.entrant) == 10000 - 500
    assert wallet_balance(b.entrant) == 2000 - 100
    assert wallet_balance(d.entrant) == 0
    # paid 42000 of the 46000 base; fee 4600 × 42000 / 46000 = 4200 released; the unused
    # two stipends (4000) come back with 400 of fee.
    assert wallet_balance(client) == 4400
    assert revenue() == 1500 + 500 + 100 + 4200
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_award_client_fee_shares_add_up_exactly_with_awkward_amounts():
    client = make_user()
    contest = published(
        client, prizes=[334, 333, 333], finalist_stipend=101, finalists_max=3, deposit=1433
    )
    entries = [enter(contest) for _ in range(4)]
    entry_finalist_set(entry_id=entries[3].pk, user=client, finalist=True)
    _judging(contest)
    contest_award(
        contest_id=contest.pk,
        user=client,
        awards={1: entries[0].pk, 2: entries[1].pk, 3: entries[2].pk},
    )
    contest.refresh_from_db()
    payments = list(Payment.objects.filter(contest=contest))
    assert contest.client_fee == 130  # 10 % of 1303
    released = sum(p.client_fee for p in payments)
    assert released == 130 * (1000 + 101) // 1303
    assert wallet_balance(client) == 202 + (130 - released)
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_award_of_a_withdrawn_or_declined_entry_is_refused_and_moves_nothing():
    client = make_user()
    contest = published(client, prizes=[30000, 10000])
    withdrawn = enter(contest)
    declined = enter(contest)
    good = enter(contest)
    spare = enter(contest)
    entry_withdraw(entry_id=withdrawn.pk, user=withdrawn.entrant)
    _judging(contest)
    entry_decline(entry_id=declined.pk, user=client, reason="Uses a stock image we cannot use.")
    with pytest.raises(ValidationFailed) as exc:
        contest_award(contest_id=contest.pk, user=client, awards={1: withdrawn.pk, 2: good.pk})
    assert "withdrawn" in exc.value.fields["prize_1"][0]
    with pytest.raises(ValidationFailed) as exc:
        contest_award(contest_id=contest.pk, user=client, awards={1: good.pk, 2: declined.pk})
    assert "declined" in exc.value.fields["prize_2"][0]
    contest.refresh_from_db()
    assert contest.status == Contest.Status.JUDGING
    assert escrow_of(contest) == 44000
    assert not Payment.objects.exists()
    contest_award(contest_id=contest.pk, user=client, awards={1: good.pk, 2: spare.pk})
    assert_money_consistent()


def test_contest_award_needs_a_winner_for_every_prize():
    client = make_user()
    contest = published(client, prizes=[30000, 10000])
    a = enter(contest)
    enter(contest)
    _judging(contest)
    with pytest.raises(ValidationFailed) as exc:
        contest_award(contest_id=contest.pk, user=client, awards={1: a.pk})
    assert "prize_2" in exc.value.fields
    with pytest.raises(ValidationFailed):
        contest_award(contest_id=contest.pk, user=client, awards={1: a.pk, 2: a.pk})
    assert escrow_of(contest) == 44000


def test_contest_award_with_fewer_entries_than_prizes_splits_the_rest_among_the_winners():
    client = make_user()
    contest = published(client, prizes=[30000, 10001])
    a = enter(contest)
    b = enter(contest)
    entry_withdraw(entry_id=b.pk, user=b.entrant)
    _judging(contest)
    contest_award(contest_id=contest.pk, user=client, awards={1: a.pk})
    gross = sum(p.gross for p in Payment.objects.filter(recipient=a.entrant))
    assert gross == 40001
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_award_gives_prizes_left_over_to_declined_entries_not_to_the_winner():
    client = make_user()
    contest = published(client, prizes=[30000, 10000, 5001])
    winner = enter(contest)
    b = enter(contest)
    c = enter(contest)
    _judging(contest)
    entry_decline(entry_id=b.pk, user=client, reason="Not what we had in mind.")
    entry_decline(entry_id=c.pk, user=client, reason="Too busy for a small logo.")
    contest_award(contest_id=contest.pk, user=client, awards={1: winner.pk})
    gross = {e.pk: sum(p.gross for p in Payment.objects.filter(entry=e)) for e in (winner, b, c)}
    # prizes 2 and 3 (15001) are split between the two declined entries, the odd cent to #2
    assert gross == {winner.pk: 30000, b.pk: 7501, c.pk: 7500}
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_award_while_open_or_by_a_stranger_is_refused():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    with pytest.raises(Conflict) as exc:
        contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    assert exc.value.code == ErrorCode.ENTRIES_OPEN
    _judging(contest)
    with pytest.raises(NotFound):
        contest_award(contest_id=contest.pk, user=entry.entrant, awards={1: entry.pk})
    assert escrow_of(contest) == 33000


def test_contest_award_twice_pays_once():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    _judging(contest)
    contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    with pytest.raises(Conflict):
        contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    assert wallet_balance(entry.entrant) == 28500
    assert Payment.objects.count() == 1
    assert_money_consistent()


def test_contest_award_adds_the_winning_entry_to_the_portfolio(django_capture_on_commit_callbacks):
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    _judging(contest)
    with django_capture_on_commit_callbacks(execute=True):
        contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    item = PortfolioItem.objects.get(owner=entry.entrant)
    assert item.source == PortfolioItem.Source.CONTEST_WIN
    assert item.source_ref == f"contests.entry:{entry.pk}"
    assert item.images.count() == 1


def test_contest_award_of_a_private_contest_keeps_the_entry_out_of_the_portfolio(
    django_capture_on_commit_callbacks,
):
    from trefpunt.contests.services import contest_invite

    client = make_user()
    entrant = make_user()
    contest = draft(client, is_private=True)
    contest_invite(contest_id=contest.pk, user=client, who=entrant.email)
    funded_wallet(client, 33000)
    contest_publish(contest_id=contest.pk, user=client)
    entry = enter(contest, entrant)
    _judging(contest)
    with django_capture_on_commit_callbacks(execute=True):
        contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    assert not PortfolioItem.objects.filter(owner=entrant).exists()


def test_contest_guarantee_splits_among_finalists_and_pays_their_stipends():
    client = make_user()
    contest = published(client, prizes=[10000], finalist_stipend=1000, finalists_max=2)
    a, b, c = (enter(contest) for _ in range(3))
    entry_finalist_set(entry_id=a.pk, user=client, finalist=True)
    entry_finalist_set(entry_id=b.pk, user=client, finalist=True)
    contest = _judging(contest)
    with time_machine.travel(judging_end(contest) + timedelta(seconds=1), tick=False):
        contest_guarantee(contest_id=contest.pk)
    contest.refresh_from_db()
    assert contest.status == Contest.Status.COMPLETED
    assert contest.award_method == Contest.AwardMethod.GUARANTEE
    # each finalist: half the prize (5000) + stipend (1000), minus 5 % crowd fee
    assert wallet_balance(a.entrant) == 5000 - 250 + 1000 - 50
    assert wallet_balance(b.entrant) == 5000 - 250 + 1000 - 50
    assert wallet_balance(c.entrant) == 0
    assert escrow_of(contest) == 0
    assert not Handover.objects.exists()
    assert_money_consistent()


def test_contest_guarantee_without_finalists_splits_among_all_entries_rounding_to_the_earliest():
    client = make_user()
    contest = published(client, prizes=[10000])
    withdrawn = enter(contest)
    a, b, c = (enter(contest) for _ in range(3))
    entry_withdraw(entry_id=withdrawn.pk, user=withdrawn.entrant)
    contest = _judging(contest)
    with time_machine.travel(judging_end(contest) + timedelta(seconds=1), tick=False):
        contest_guarantee(contest_id=contest.pk)
    shares = {p.entry_id: p.gross for p in Payment.objects.all()}
    # 10000 / 3 = 3333 r 1: the earliest entry (#2; #1 was withdrawn) gets the extra cent.
    assert shares == {a.pk: 3334, b.pk: 3333, c.pk: 3333}
    assert wallet_balance(withdrawn.entrant) == 0
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_guarantee_still_pays_entries_the_client_declined_for_taste():
    client = make_user()
    contest = published(client, prizes=[10000])
    kept = enter(contest)
    declined = enter(contest)
    contest = _judging(contest)
    entry_decline(entry_id=declined.pk, user=client, reason="Not a logo, a photograph.")
    with time_machine.travel(judging_end(contest) + timedelta(seconds=1), tick=False):
        contest_guarantee(contest_id=contest.pk)
    shares = {p.entry_id: p.gross for p in Payment.objects.all()}
    assert shares == {kept.pk: 5000, declined.pk: 5000}
    assert wallet_balance(declined.entrant) == 5000 - 250
    declined.refresh_from_db()
    assert declined.status == Entry.Status.DECLINED  # still declined, but paid its share
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_guarantee_cannot_be_dodged_by_declining_every_entry():
    client = make_user()
    contest = published(client, prizes=[20000, 10000])
    a = enter(contest)
    b = enter(contest)
    contest = _judging(contest)
    entry_decline(entry_id=a.pk, user=client, reason="Not what we had in mind at all.")
    entry_decline(
        entry_id=b.pk,
        user=client,
        reason="Looks copied from somewhere.",
        reason_code=Entry.DeclineCode.COPIED,
    )
    # b's rule-break decline was never reviewed by staff: it counts as eligible.
    with time_machine.travel(judging_end(contest) + timedelta(seconds=1), tick=False):
        contest_guarantee(contest_id=contest.pk)
    contest.refresh_from_db()
    assert contest.status == Contest.Status.COMPLETED
    assert wallet_balance(a.entrant) == wallet_balance(b.entrant) == 15000 - 750
    assert wallet_balance(client) == 0
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_guarantee_leaves_out_entries_whose_rule_break_decline_staff_upheld():
    client = make_user()
    staff = make_user(is_staff=True)
    contest = published(client, prizes=[10000])
    honest = enter(contest)
    copied = enter(contest)
    overturned = enter(contest)
    contest = _judging(contest)
    for entry in (copied, overturned):
        entry_decline(
            entry_id=entry.pk,
            user=client,
            reason="Traced from a stock logo site.",
            reason_code=Entry.DeclineCode.COPIED,
        )
    entry_decline_review(entry_id=copied.pk, staff=staff, uphold=True)
    entry_decline_review(entry_id=overturned.pk, staff=staff, uphold=False)
    with time_machine.travel(judging_end(contest) + timedelta(seconds=1), tick=False):
        contest_guarantee(contest_id=contest.pk)
    shares = {p.entry_id: p.gross for p in Payment.objects.all()}
    assert shares == {honest.pk: 5000, overturned.pk: 5000}
    assert wallet_balance(copied.entrant) == 0
    assert_money_consistent()


def test_contest_guarantee_before_judging_ends_is_refused():
    client = make_user()
    contest = published(client)
    enter(contest)
    contest = _judging(contest)
    with (
        time_machine.travel(judging_end(contest) - timedelta(minutes=1), tick=False),
        pytest.raises(Conflict),
    ):
        contest_guarantee(contest_id=contest.pk)
    assert escrow_of(contest) == 33000


def test_contest_guarantee_with_no_eligible_entries_refunds_everything():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    contest = _judging(contest)
    entry_decline(
        entry_id=entry.pk, user=client, reason="Copied from a stock site.", reason_code="rules"
    )
    entry_decline_review(entry_id=entry.pk, staff=make_user(is_staff=True), uphold=True)
    with time_machine.travel(judging_end(contest) + timedelta(seconds=1), tick=False):
        contest_guarantee(contest_id=contest.pk)
    contest.refresh_from_db()
    assert contest.status == Contest.Status.CANCELLED
    assert contest.cancel_reason == "no_eligible_entries"
    assert wallet_balance(client) == 33000
    assert_money_consistent()


def test_split_equally_gives_the_remainder_to_the_earliest_entries():
    entries = [Entry(number=n) for n in (3, 1, 2, 4)]
    shares = {e.number: amount for e, amount in split_equally(10003, entries)}
    assert shares == {1: 2501, 2: 2501, 3: 2501, 4: 2500}
    assert sum(shares.values()) == 10003


def test_contest_cancel_a_draft_moves_no_money():
    client = make_user()
    contest = draft(client)
    cancelled = contest_cancel(contest_id=contest.pk, user=client)
    assert cancelled.status == Contest.Status.CANCELLED
    assert not JournalEntry.objects.exists()


def test_contest_cancel_open_without_entries_refunds_in_full():
    client = make_user()
    contest = published(client)
    contest_cancel(contest_id=contest.pk, user=client)
    assert wallet_balance(client) == 33000
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_cancel_open_with_entries_is_refused():
    client = make_user()
    contest = published(client)
    enter(contest)
    with pytest.raises(Conflict) as exc:
        contest_cancel(contest_id=contest.pk, user=client)
    assert exc.value.code == ErrorCode.HAS_ENTRIES
    assert escrow_of(contest) == 33000


def test_contest_cancel_during_judging_is_refused():
    client = make_user()
    contest = published(client)
    enter(contest)
    _judging(contest)
    with pytest.raises(Conflict) as exc:
        contest_cancel(contest_id=contest.pk, user=client)
    assert exc.value.code == ErrorCode.WRONG_STATE


def test_contest_cancel_by_a_stranger_is_not_found():
    contest = published(make_user())
    with pytest.raises(NotFound):
        contest_cancel(contest_id=contest.pk, user=make_user())
    assert escrow_of(contest) == 33000


def test_contest_close_entries_at_the_deadline_without_entries_refunds():
    client = make_user()
    contest = published(client)
    _judging(contest)
    contest.refresh_from_db()
    assert contest.status == Contest.Status.CANCELLED
    assert contest.cancel_reason == "no_entries"
    assert wallet_balance(client) == 33000
    assert_money_consistent()


def test_money_flows_leave_funding_summary_consistent():
    client = make_user()
    contest = draft(client, prizes=[12345])
    funding = contest_funding(contest=contest)
    assert funding.total == 12345 + 1235
    assert funding.shortfall == funding.total
    assert timezone.now() < contest.entry_deadline
