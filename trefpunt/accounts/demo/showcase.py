"""What each demo account can show: the demo accounts page and the logins ``make run`` prints.

Every app's ``demo`` module may define ``showcase() -> list[Showcase]``, read from the
database (so it is right whether the demo was just loaded or loaded last week). A showcase
with ``lead`` set is the one login ``make run`` prints for its role; the page lists every demo
account with everything the apps say about it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from ..models import Membership, Role, User
from .people import CLIENTS, CROWD, DOMAIN, STAFF

# The apps whose demo modules may say something about an account, in page order.
SHOWCASE_APPS = ["accounts", "contests", "microtasks", "ideas", "projects"]
# The roles ``make run`` prints, one login each, in this order.
LEAD_ROLES = ["client", "organisation owner", "crowd member who won", "worker", "staff"]


@dataclass(frozen=True)
class Showcase:
    email: str
    role: str  # one of LEAD_ROLES or another short key, English (printed by make run)
    what: str | Promise  # what logging in as this person shows, for the page
    url: str = ""  # where to look first
    lead: bool = False


@dataclass
class DemoAccount:
    user: User
    roles: list[str] = field(default_factory=list)
    shows: list[Showcase] = field(default_factory=list)


def _accounts_showcase() -> list[Showcase]:
    rows: list[Showcase] = [
        Showcase(
            STAFF.email,
            "staff",
            _("Staff: pays out payouts, decides appeals and copy flags, releases held messages."),
            lead=True,
        )
    ]
    owners = (
        Membership.objects.filter(role=Role.OWNER, user__email__endswith=f"@{DOMAIN}")
        .select_related("organisation", "user")
        .order_by("pk")
    )
    for n, membership in enumerate(owners):
        rows.append(
            Showcase(
                membership.user.email,
                "organisation owner",
                _("Owns %(org)s: its wallet, members and the work it posts.")
                % {"org": membership.organisation.name},
                url=membership.organisation.get_absolute_url(),
                lead=n == 0,
            )
        )
    for person in CLIENTS:
        rows.append(
            Showcase(person.email, "client", _("Client with a funded wallet: posts and pays work."))
        )
    for person in CROWD:
        if person.portfolio:
            rows.append(Showcase(person.email, "crowd member", _("Crowd member with a portfolio.")))
    return rows


def _app_hooks() -> list[Callable[[], list[Showcase]]]:
    hooks: list[Callable[[], list[Showcase]]] = [_accounts_showcase]
    for app in SHOWCASE_APPS[1:]:
        try:
            module = importlib.import_module(f"trefpunt.{app}.demo")
        except ModuleNotFoundError:
            continue
        hook = getattr(module, "showcase", None)
        if hook is not None:
            hooks.append(hook)
    return hooks


def showcases() -> list[Showcase]:
    return [row for hook in _app_hooks() for row in hook()]


def lead_logins(rows: list[Showcase] | None = None) -> list[Showcase]:
    """One showcase per role in LEAD_ROLES (the first marked ``lead``), in that order."""
    rows = showcases() if rows is None else rows
    chosen: list[Showcase] = []
    for role in LEAD_ROLES:
        lead = next((r for r in rows if r.role == role and r.lead), None)
        if lead is not None:
            chosen.append(lead)
    return chosen


def demo_accounts() -> list[DemoAccount]:
    """Every demo account (an address at the demo's domain) with what it can show: accounts
    with something to show first, then by name."""
    rows = showcases()
    users = (
        User.objects.filter(email__iendswith=f"@{DOMAIN}", is_active=True)
        .select_related("profile")
        .annotate(n_memberships=Count("memberships"))
        .order_by("pk")
    )
    accounts = {u.email.lower(): DemoAccount(user=u) for u in users}
    for row in rows:
        account = accounts.get(row.email.lower())
        if account is None:
            continue
        account.shows.append(row)
        if row.role not in account.roles:
            account.roles.append(row.role)
    return sorted(accounts.values(), key=lambda a: (not a.shows, -len(a.shows), a.user.pk))
