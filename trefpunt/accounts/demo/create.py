"""Creating the demo's people, organisations and deposits through the real services, and the
helpers the other apps' demos use to find (or add) clients and crowd members."""

from __future__ import annotations

from functools import cache

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile

from trefpunt.ledger.models import AccountKind, Deposit, LedgerAccount
from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
from trefpunt.ledger.services import deposit_create, webhook_receive

from ..models import Membership, Organisation, Role, User
from ..services import (
    invitation_accept,
    organisation_create,
    organisation_invite,
    portfolio_item_create,
    profile_update,
    user_create,
)
from .images import artwork_png, avatar_png
from .people import CLIENT_MIN_BALANCE, PASSWORD, Org, Person


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


# --- creating ------------------------------------------------------------------------------


@cache
def _password_hash() -> str:
    """The demo password hashed once: argon2 is slow on purpose (most of a second per hash on
    a busy two-core machine), and forty people share the one published password anyway."""
    return make_password(PASSWORD)


def person_create(person: Person, *, avatar: bool) -> tuple[User, bool]:
    user = User.objects.filter(email__iexact=person.email).first()
    if user is not None:
        return user, False
    user = user_create(
        email=person.email,
        password=None,
        display_name=person.name,
        handle=person.handle,
        is_staff=person.staff,
    )
    user.password = _password_hash()
    user.save(update_fields=["password"])
    profile_update(
        profile=user.profile,
        handle=person.handle,
        display_name=person.name,
        headline=person.headline,
        bio=person.bio,
        location=person.location,
        languages=person.languages,
        skills=person.skills,
        avatar=_upload("avatar.png", avatar_png(person.name)) if avatar else None,
    )
    for position, (title, description) in enumerate(person.portfolio):
        portfolio_item_create(
            owner=user,
            title=title,
            description=description,
            images=[
                _upload(f"work-{n}.png", artwork_png(f"{person.key}:{position}:{n}"))
                for n in range(2)
            ],
        )
    return user, True


def fund(wallet: LedgerAccount, user: User, amount: int, key: str) -> bool:
    """Deposit ``amount`` once per ``key``: a sandbox deposit confirmed by a signed webhook."""
    if amount <= 0:
        return False
    deposit = deposit_create(wallet=wallet, user=user, amount=amount, idempotency_key=key)
    if deposit.status == Deposit.Status.PAID:
        return False
    body = sandbox_notification(deposit, "paid")
    webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))
    return True


def org_create(org: Org, users: dict[str, User]) -> tuple[Organisation, bool]:
    organisation = Organisation.objects.filter(slug=org.slug).first()
    created = organisation is None
    owner = users[org.owner]
    if organisation is None:
        organisation = organisation_create(
            user=owner,
            name=org.name,
            slug=org.slug,
            description=org.description,
            website=org.website,
        )
    wanted = [(key, Role.ADMIN) for key in org.admins] + [(key, Role.MEMBER) for key in org.members]
    for key, role in wanted:
        member = users[key]
        if Membership.objects.filter(organisation=organisation, user=member).exists():
            continue
        # The real path: an emailed invitation, accepted by the invitee.
        _invitation, token = organisation_invite(
            organisation=organisation, inviter=owner, email=member.email, role=role
        )
        invitation_accept(token=token, user=member)
    return organisation, created


def demo_people() -> tuple[list[User], list[Organisation], list[User]]:
    """(individual clients, organisations with their owner, crowd) from the database, for the
    contests and microtasks demos: whoever ``trefpunt demo`` or an operator created."""
    org_member_ids = set(Membership.objects.values_list("user_id", flat=True))
    wallets = {
        a.user_id: a.balance
        for a in LedgerAccount.objects.filter(kind=AccountKind.WALLET, user__isnull=False)
    }
    people = list(
        User.objects.filter(is_active=True, is_staff=False, profile__isnull=False)
        .select_related("profile")
        .order_by("pk")
    )
    clients = [
        u
        for u in people
        if u.pk not in org_member_ids
        and ("client" in u.email.lower() or wallets.get(u.pk, 0) >= CLIENT_MIN_BALANCE)
    ]
    clients.sort(key=lambda u: -wallets.get(u.pk, 0))
    client_ids = {u.pk for u in clients}
    crowd = [u for u in people if u.pk not in org_member_ids and u.pk not in client_ids]
    organisations = list(
        Organisation.objects.filter(
            memberships__role=Role.OWNER, memberships__user__is_active=True
        ).order_by("pk")
    )
    return clients, organisations, crowd


def demo_people_ensure(clients: list[User], crowd: list[User]) -> None:
    """Add people through the accounts service when the database has too few."""
    for people, minimum, kind, name in (
        (clients, 2, "client", "Demo Client"),
        (crowd, 8, "crowd", "Demo Creative"),
    ):
        n = 0
        while len(people) < minimum:
            n += 1
            email = f"demo-{kind}-{n}@example.com"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = user_create(email=email, password=None, display_name=f"{name} {n}")
                user.password = _password_hash()
                user.save(update_fields=["password"])
            if user not in people:
                people.append(user)


def wallet_top_up(wallet: LedgerAccount, user: User, amount: int, key: str) -> None:
    """Top the wallet up through a real (sandbox) deposit so it holds at least ``amount``."""
    wallet.refresh_from_db()
    short = amount - wallet.balance
    if short > 0:
        fund(wallet, user, max(short, 500), key)
