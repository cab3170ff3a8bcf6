"""The wallet history says in the reader's language which contest a line was for."""

import pytest

from trefpunt.contests.tests.factories import make_user, published


@pytest.mark.django_db
def test_wallet_history_links_the_contest_in_the_readers_language(client):
    owner = make_user()
    contest = published(owner, title="Een logo voor een bakkerij")
    client.force_login(owner)

    english = client.get("/en/wallet/").content.decode()
    dutch = client.get("/nl/wallet/").content.decode()

    assert f'href="/en/contests/{contest.pk}/">Contest: Een logo voor een bakkerij</a>' in english
    assert f'href="/nl/contests/{contest.pk}/">Wedstrijd: Een logo voor een bakkerij</a>' in dutch
