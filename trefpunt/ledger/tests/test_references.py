import pytest

from trefpunt.ledger.references import (
    _RESOLVERS,
    ReferenceLabel,
    reference_register,
    references_describe,
)


@pytest.fixture
def thing_resolver():
    calls = []

    def resolve(ids):
        calls.append(list(ids))
        return {pk: ReferenceLabel(label=f"Thing {pk}", url=f"/things/{pk}/") for pk in ids}

    reference_register("thing", resolve)
    yield calls
    del _RESOLVERS["thing"]


@pytest.mark.django_db  # deposit:5 goes to the deposits' resolver (there is no deposit 5)
def test_references_describe_resolves_each_prefix_in_one_call(thing_resolver):
    labels = references_describe(["thing:2", "thing:1", "thing:2", "deposit:5", "", "thing:x"])

    assert labels == {
        "thing:1": ReferenceLabel("Thing 1", "/things/1/"),
        "thing:2": ReferenceLabel("Thing 2", "/things/2/"),
    }
    assert thing_resolver == [[1, 2]]


def test_deposits_payouts_and_postings_read_as_themselves_in_the_readers_language() -> None:
    """The staff admin names each row by its ``str``: Django's fallback was
    "Deposit object (3)" in every language."""
    from django.utils import translation

    from trefpunt.ledger.models import Deposit, Payout, Posting

    with translation.override("nl"):
        assert str(Deposit(pk=3, amount=1250, currency="EUR")) == "storting 3 · €\xa012,50"
        assert str(Payout(pk=4, amount=100000, currency="EUR")) == "uitbetaling 4 · €\xa01.000,00"
        assert str(Posting(pk=5, amount=-300)) == "boeking 5"
