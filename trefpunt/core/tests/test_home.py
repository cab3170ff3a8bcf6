import pytest

from trefpunt.contests.tests.factories import draft, make_user, published


@pytest.mark.django_db
def test_home_shows_open_public_contests_and_the_money_in_escrow(client):
    owner = make_user()
    published(owner, title="Logo for a bakery", prizes=[40000])
    published(owner, title="A secret brief", prizes=[10000], is_private=True, nda_text="Keep it.")
    draft(owner, title="Not yet published")

    page = client.get("/en/").content.decode()

    assert "Logo for a bakery" in page
    assert "A secret brief" not in page
    assert "Not yet published" not in page
    assert "€\u00a0400.00" in page


@pytest.mark.django_db
def test_home_query_count_does_not_grow_with_contests(client, django_assert_max_num_queries):
    owner = make_user()
    published(owner, title="First")
    with django_assert_max_num_queries(12) as few:
        client.get("/en/")
    for n in range(4):
        published(owner, title=f"Contest {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/en/")
