"""Contests built the way production builds them: through the services, with money that
arrived as a confirmed deposit, and entries with real (generated) image files."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from PIL import Image, ImageDraw

from trefpunt.accounts.models import Organisation, User
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.contests.models import Contest, Entry
from trefpunt.contests.services import contest_create_draft, contest_publish, entry_submit
from trefpunt.ledger.models import AccountKind, Deposit, LedgerAccount
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet


def make_user(**fields: Any) -> User:
    """A user with profile and verified email (typed wrapper of ``UserFactory``)."""
    return cast(User, UserFactory(**fields))


def make_organisation(owner: User) -> Organisation:
    return cast(Organisation, OrganisationFactory(user=owner))


def join_organisation(organisation: Organisation, inviter: User, role: str) -> User:
    """A new member with ``role``, invited and accepted through the accounts services."""
    from trefpunt.accounts.services import invitation_accept, organisation_invite

    member = make_user()
    _invitation, token = organisation_invite(
        organisation=organisation, inviter=inviter, email=member.email, role=role
    )
    invitation_accept(token=token, user=member)
    return member


def structured_image(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A picture with structure (gradient, shapes, noise) that differs per seed."""
    rnd = random.Random(seed)
    w, h = size
    a = np.linspace(0, 1, w)[None, :]
    b = np.linspace(0, 1, h)[:, None]
    c1 = np.array([rnd.randint(0, 255) for _ in range(3)])
    c2 = np.array([rnd.randint(0, 255) for _ in range(3)])
    t = a * rnd.random() + b * (1 - rnd.random())
    t = t / t.max()
    pixels = c1[None, None, :] * (1 - t[..., None]) + c2[None, None, :] * t[..., None]
    image = Image.fromarray(pixels.astype("uint8"))
    draw = ImageDraw.Draw(image)
    for _ in range(rnd.randint(6, 12)):
        x0, y0 = rnd.randint(0, w), rnd.randint(0, h)
        box = [x0, y0, x0 + rnd.randint(8, max(9, w // 2)), y0 + rnd.randint(8, max(9, h // 2))]
        colour = tuple(rnd.randint(0, 255) for _ in range(3))
        shape = rnd.choice(["ellipse", "rectangle", "polygon"])
        if shape == "ellipse":
            draw.ellipse(box, fill=colour)
        elif shape == "rectangle":
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon([(rnd.randint(0, w), rnd.randint(0, h)) for _ in range(3)], fill=colour)
    noise = np.random.default_rng(seed).normal(0, 10, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=float) + noise, 0, 255).astype("uint8"))


def near_copy(image: Image.Image, crop: float = 0.03, scale: float = 0.6) -> Image.Image:
    """A copy cropped by ``crop`` on every side, shrunk and re-encoded as JPEG."""
    w, h = image.size
    box = (int(w * crop), int(h * crop), int(w * (1 - crop)), int(h * (1 - crop)))
    cropped = image.crop(box)
    small = cropped.resize((int(cropped.width * scale), int(cropped.height * scale)))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=70)
    return Image.open(io.BytesIO(out.getvalue()))


def image_bytes(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_upload(
    seed: int = 1, name: str = "design.png", size: tuple[int, int] = (640, 480)
) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name,
        image_bytes(structured_image(seed, size), compress_level=1),
        content_type="image/png",
    )


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def deadline(days: float = 5) -> Any:
    return timezone.now() + timedelta(days=days)


def draft(client: User, **overrides: Any) -> Contest:
    fields: dict[str, Any] = {
        "user": client,
        "title": "A logo for a bakery",
        "summary": "Warm, simple, works in one colour.",
        "description": "We bake **sourdough** bread.",
        "category": "logo",
        "prizes": [30000],
        "entry_deadline": deadline(),
    }
    fields.update(overrides)
    return contest_create_draft(**fields)


def published(client: User, *, deposit: int | None = None, **overrides: Any) -> Contest:
    """A published contest; the paying wallet first receives ``deposit`` (default: exactly
    what publishing costs) through a confirmed sandbox deposit."""
    from trefpunt.contests.selectors import contest_funding

    contest = draft(client, **overrides)
    funding = contest_funding(contest=contest)
    wallet = (
        wallet_for_organisation(organisation=contest.organisation)
        if contest.organisation
        else wallet_for_user(user=client)
    )
    fund_wallet(wallet, client, funding.total if deposit is None else deposit)
    return contest_publish(contest_id=contest.pk, user=client)


def enter(contest: Contest, user: User | None = None, seed: int | None = None, **kw: Any) -> Entry:
    entrant = user or make_user()
    return entry_submit(
        contest_id=contest.pk,
        user=entrant,
        title=kw.pop("title", f"Entry by {entrant.email}"),
        files=kw.pop("files", None) or [png_upload(seed if seed is not None else entrant.pk * 7)],
        originality_declared=kw.pop("originality_declared", True),
        **kw,
    )


def balance(account: LedgerAccount | None) -> int:
    if account is None:
        return 0
    return LedgerAccount.objects.get(pk=account.pk).balance


def wallet_balance(user: User) -> int:
    account = LedgerAccount.objects.filter(kind=AccountKind.WALLET, user=user).first()
    return balance(account)


def revenue() -> int:
    return (
        LedgerAccount.objects.filter(kind=AccountKind.PLATFORM_REVENUE).aggregate(s=Sum("balance"))[
            "s"
        ]
        or 0
    )


def escrow_of(contest: Contest) -> int:
    account = LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW, reference=f"contest:{contest.pk}"
    ).first()
    return balance(account)


def assert_money_consistent() -> int:
    """The ledger is zero-sum and healthy, ``ledger_check`` passes, and the wallets + escrows
    + platform revenue hold exactly what was deposited. Returns the deposited total."""
    assert ledger_verify() == []
    call_command("ledger_check", stdout=io.StringIO())
    deposited = (
        Deposit.objects.filter(status=Deposit.Status.PAID).aggregate(s=Sum("amount"))["s"] or 0
    )
    held = (
        LedgerAccount.objects.filter(
            kind__in=[AccountKind.WALLET, AccountKind.ESCROW, AccountKind.PLATFORM_REVENUE]
        ).aggregate(s=Sum("balance"))["s"]
        or 0
    )
    assert held == deposited, f"held {held} != deposited {deposited}"
    return deposited


def judging_end(contest: Contest) -> datetime:
    contest.refresh_from_db()
    assert contest.judging_ends_at is not None
    return contest.judging_ends_at


def handover_delivered_at(entry: Entry) -> datetime:
    from trefpunt.contests.models import Handover

    delivered = Handover.objects.get(entry=entry).delivered_at
    assert delivered is not None
    return delivered
