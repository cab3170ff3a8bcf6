"""Demo people and organisations for ``trefpunt demo``, created through the real services.

Idempotent: everyone has a fixed email address and every organisation a fixed address; what
exists is skipped. Wallets are funded with real sandbox deposits (a signed notification
through ``webhook_receive``) under a fixed idempotency key per wallet, so running the demo
again deposits nothing twice.

``people`` holds who they are, ``images`` draws their pictures, ``create`` makes them,
``showcase`` says what each account can show (the demo accounts page and ``make run``).
"""

from __future__ import annotations

from typing import IO

from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user

from ..models import PortfolioItem, User
from .create import (
    demo_people,
    demo_people_ensure,
    fund,
    org_create,
    person_create,
    wallet_top_up,
)
from .images import artwork_png, avatar_png
from .people import CLIENTS, CROWD, DOMAIN, EVERYONE, ORG_PEOPLE, ORGS, PASSWORD

__all__ = [
    "DOMAIN",
    "PASSWORD",
    "artwork_png",
    "avatar_png",
    "demo_logins",
    "demo_people",
    "demo_people_ensure",
    "load",
    "wallet_top_up",
]


def load(stdout: IO[str]) -> list[tuple[str, str, str]]:
    users: dict[str, User] = {}
    new_people = 0
    for person in EVERYONE:
        user, created = person_create(person, avatar=not person.staff)
        users[person.key] = user
        new_people += created
    new_orgs = 0
    funded = 0
    for org in ORGS:
        organisation, created = org_create(org, users)
        new_orgs += created
        funded += fund(
            wallet_for_organisation(organisation=organisation),
            users[org.owner],
            org.wallet_cents,
            f"demo:org:{org.slug}",
        )
    for person in EVERYONE:
        user = users[person.key]
        funded += fund(
            wallet_for_user(user=user), user, person.wallet_cents, f"demo:wallet:{person.key}"
        )
    portfolio = PortfolioItem.objects.filter(owner__email__endswith=f"@{DOMAIN}").count()
    stdout.write(
        f"accounts: {new_people} new people ({len(EVERYONE)} in the demo: {len(CLIENTS)} "
        f"clients, {len(CROWD)} crowd members, {len(ORG_PEOPLE)} organisation staff, 1 staff), "
        f"{new_orgs} new organisations, {funded} wallets funded, {portfolio} portfolio items.\n"
    )
    return []  # the command prints demo_logins() once every app's demo is loaded


def demo_logins() -> list[tuple[str, str, str]]:
    """One login per role that matters (client, organisation owner, crowd member who won,
    worker, staff), from what the demo holds now: (role, email, password)."""
    from .showcase import lead_logins

    return [(row.role, row.email, PASSWORD) for row in lead_logins()]
