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
