"""allauth's rate limits are on in every real environment (the test settings switch them off
for speed; this test switches them back to the production values)."""

import pytest
from django.core.cache import cache

from trefpunt.accounts.tests.factories import PASSWORD
from trefpunt.settings import base


@pytest.mark.django_db
def test_login_is_rate_limited_after_repeated_failures_for_one_address(client, settings, user):
    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS
    cache.clear()
    pages = [
        client.post("/en/accounts/login/", {"login": user.email, "password": "wrong"})
        for _attempt in range(6)
    ]
    right_password = client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    cache.clear()

    assert all("Too many failed login attempts" not in p.content.decode() for p in pages[:5])
    assert "Too many failed login attempts" in pages[5].content.decode()
    # Even the right password is refused while the limit holds.
    assert right_password.status_code == 200
    assert "_auth_user_id" not in client.session
