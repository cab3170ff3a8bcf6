"""Demo people and organisations for ``trefpunt demo``, created through the real services.

Idempotent: everyone has a fixed email address and every organisation a fixed address; what
exists is skipped. Wallets are funded with real sandbox deposits (a signed notification
through ``webhook_receive``) under a fixed idempotency key per wallet, so running the demo
again deposits nothing twice.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import IO

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from trefpunt.ledger.models import AccountKind, Deposit, LedgerAccount
from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
from trefpunt.ledger.services import (
    deposit_create,
    wallet_for_organisation,
    wallet_for_user,
    webhook_receive,
)

from .models import Membership, Organisation, PortfolioItem, Role, User
from .services import (
    invitation_accept,
    organisation_create,
    organisation_invite,
    portfolio_item_create,
    profile_update,
    user_create,
)

PASSWORD = "trefpunt-demo"  # noqa: S105 - the published demo password
# Who counts as a client in the other apps' demos: a wallet of at least €1,000.
CLIENT_MIN_BALANCE = 100_000
DOMAIN = "example.com"


@dataclass(frozen=True)
class Person:
    key: str  # the email's local part
    name: str
    handle: str
    headline: str
    location: str
    languages: str
    skills: str
    bio: str
    wallet_cents: int
    portfolio: tuple[tuple[str, str], ...] = ()
    staff: bool = False

    @property
    def email(self) -> str:
        return f"{self.key}@{DOMAIN}"


@dataclass(frozen=True)
class Org:
    slug: str
    name: str
    website: str
    description: str
    owner: str
    wallet_cents: int
    admins: tuple[str, ...] = ()
    members: tuple[str, ...] = field(default_factory=tuple)


STAFF = Person(
    "staff",
    "Ilse Vermeulen",
    "ilse-trefpunt",
    "Community and finance desk at Trefpunt",
    "Utrecht, NL",
    "nl, en",
    "moderation, payouts",
    "I look after payouts, disputes and the community guidelines.",
    0,
    staff=True,
)

CLIENTS = [
    Person(
        "eva",
        "Eva Mulder",
        "eva-mulder",
        "Owner of Café De Kade in Zwolle",
        "Zwolle, NL",
        "nl, en",
        "hospitality, marketing",
        "I run a small café by the water and hire the crowd for menus, posters and the odd "
        "website tweak.\nAlways looking for illustrators who can draw coffee cups.",
        750_000,
    ),
    Person(
        "hendrik",
        "Hendrik Bakker",
        "hendrik-bakker",
        "Product manager, outdoor gear webshop",
        "Arnhem, NL",
        "nl, en, de",
        "e-commerce, product data",
        "We sell tents and rain gear across the Benelux. I use microtasks to clean up "
        "product data and contests for campaign visuals.",
        1_200_000,
    ),
    Person(
        "amira",
        "Amira Benali",
        "amira-benali",
        "Founder of a language-learning podcast",
        "Rotterdam, NL",
        "nl, en, fr, ar",
        "podcasting, education",
        "Three seasons in, I need transcripts, show notes and a fresh logo now and then.",
        400_000,
    ),
    Person(
        "tom",
        "Tom de Wit",
        "tom-de-wit",
        "Event organiser, Leiden",
        "Leiden, NL",
        "nl, en",
        "events, logistics",
        "Festivals, conferences and the occasional wedding. Posters wanted, always.",
        300_000,
    ),
]

ORG_PEOPLE = [
    Person(
        "marieke",
        "Marieke van der Meulen",
        "marieke-vdm",
        "Director, Bakkerij Van der Meulen",
        "Haarlem, NL",
        "nl, en",
        "retail, bakery",
        "Third generation in the family bakery, now twelve shops around Haarlem.",
        0,
    ),
    Person(
        "joost",
        "Joost Brouwer",
        "joost-brouwer",
        "Marketing lead, Bakkerij Van der Meulen",
        "Haarlem, NL",
        "nl, en",
        "marketing, branding",
        "Seasonal campaigns, packaging and everything with a crust.",
        0,
    ),
    Person(
        "fatima",
        "Fatima El Amrani",
        "fatima-el-amrani",
        "Shop manager, Bakkerij Van der Meulen",
        "Heemstede, NL",
        "nl, ar, en",
        "retail, customer service",
        "Runs the Heemstede shop and collects customer ideas.",
        0,
    ),
    Person(
        "pieter",
        "Pieter Jansen",
        "pieter-jansen",
        "Head of tenant participation, Woonhaven Rivierenland",
        "Tiel, NL",
        "nl, en",
        "housing, participation",
        "We ask tenants what their neighbourhood needs and act on the best ideas.",
        0,
    ),
    Person(
        "sanne",
        "Sanne de Boer",
        "sanne-de-boer",
        "Neighbourhood consultant, Woonhaven Rivierenland",
        "Culemborg, NL",
        "nl, en",
        "community work, surveys",
        "Idea calls, surveys and coffee mornings in six neighbourhoods.",
        0,
    ),
    Person(
        "ruben",
        "Ruben Kok",
        "ruben-kok",
        "Data analyst, Woonhaven Rivierenland",
        "Geldermalsen, NL",
        "nl, en",
        "data analysis, python",
        "Turns repair requests and surveys into something a board can read.",
        0,
    ),
    Person(
        "lotte",
        "Lotte Visser",
        "lotte-visser",
        "Co-founder and design lead, Vlot Labs",
        "Eindhoven, NL",
        "nl, en, de",
        "product design, design systems",
        "We build shared cargo bikes for neighbourhoods. Design first, always.",
        0,
    ),
    Person(
        "daan",
        "Daan Smit",
        "daan-smit",
        "Engineer, Vlot Labs",
        "Eindhoven, NL",
        "nl, en",
        "embedded, firmware",
        "Makes the locks talk to the app.",
        0,
    ),
]

CROWD = [
    Person(
        "anouk",
        "Anouk Dekker",
        "anouk-draws",
        "Illustrator · picture books and packaging",
        "Utrecht, NL",
        "nl, en",
        "illustration, packaging design, watercolour",
        "I draw for picture books, tea tins and the occasional café menu.\n"
        "Ten years of freelance work, three contest wins this year.",
        18_500,
        portfolio=(
            ("Tea tin series “Vier Seizoenen”", "Four watercolour tins for a Utrecht tea shop."),
            ("Picture book spreads", "Two spreads from a book about a lost bicycle."),
        ),
    ),
    Person(
        "bram",
        "Bram Willems",
        "bram-willems",
        "Logo and identity designer",
        "Gent, BE",
        "nl, fr, en",
        "logo design, branding, typography",
        "Simple marks that survive a fax machine. Based in Gent, working everywhere.",
        9_200,
        portfolio=(("Identity for a cycling club", "Logo, jersey and stickers."),),
    ),
    Person(
        "chiara",
        "Chiara Rossi",
        "chiara-rossi",
        "UX writer and Italian translator",
        "Milano, IT",
        "it, en, nl",
        "copywriting, translation, ux writing",
        "Microcopy that people actually read, in Italian, English and (improving) Dutch.",
        6_400,
    ),
    Person(
        "dmitri",
        "Dmitri Volkov",
        "dmitri-volkov",
        "3D artist and product visualiser",
        "Amsterdam, NL",
        "ru, en",
        "3d modelling, blender, rendering",
        "Product renders before the product exists.",
        12_000,
        portfolio=(("Cargo bike concept renders", "Studio and street renders in Blender."),),
    ),
    Person(
        "emre",
        "Emre Yılmaz",
        "emre-yilmaz",
        "Data labeller and QA tester",
        "Rotterdam, NL",
        "tr, nl, en",
        "data labelling, testing",
        "Fast and careful on image and text tasks. Gold accuracy above 97%.",
        4_350,
    ),
    Person(
        "femke",
        "Femke Hendriks",
        "femke-hendriks",
        "Photographer · food and interiors",
        "Den Bosch, NL",
        "nl, en",
        "photography, photo editing, styling",
        "Daylight, wooden tables, steam from the coffee.",
        15_750,
        portfolio=(("Bakery lookbook", "A morning in a Brabant bakery, twelve photos."),),
    ),
    Person(
        "gijs",
        "Gijs van Leeuwen",
        "gijs-van-leeuwen",
        "Full-stack developer (Django, htmx)",
        "Delft, NL",
        "nl, en",
        "python, django, htmx, postgresql",
        "I build boring, fast web apps. Projects of two to eight weeks.",
        22_000,
    ),
    Person(
        "hanna",
        "Hanna Kowalska",
        "hanna-kowalska",
        "Motion designer",
        "Kraków, PL",
        "pl, en",
        "motion design, after effects, animation",
        "Explainer videos and animated logos.",
        7_800,
    ),
    Person(
        "ibrahim",
        "Ibrahim Diallo",
        "ibrahim-diallo",
        "French transcriber and subtitler",
        "Brussel, BE",
        "fr, nl, en",
        "transcription, subtitles",
        "Accurate French and Dutch transcripts, usually within 24 hours.",
        3_100,
    ),
    Person(
        "jasmijn",
        "Jasmijn de Graaf",
        "jasmijn-de-graaf",
        "Brand strategist and namer",
        "Amsterdam, NL",
        "nl, en",
        "naming, brand strategy, copywriting",
        "Names for bakeries, bikes and one very serious law firm.",
        11_900,
    ),
    Person(
        "kofi",
        "Kofi Mensah",
        "kofi-mensah",
        "Illustrator and muralist",
        "Almere, NL",
        "en, nl",
        "illustration, murals, street art",
        "Big walls, bright colours, community projects.",
        8_600,
        portfolio=(("Mural for a community centre", "Six metres of neighbourhood faces."),),
    ),
    Person(
        "lieke",
        "Lieke Bos",
        "lieke-bos",
        "Survey researcher",
        "Groningen, NL",
        "nl, en, de",
        "survey design, research, statistics",
        "Questionnaires that people finish, and honest reports about them.",
        5_200,
    ),
    Person(
        "mateo",
        "Mateo García",
        "mateo-garcia",
        "Spanish copywriter",
        "Valencia, ES",
        "es, en, ca",
        "copywriting, translation, seo",
        "Ad copy and product pages for Spanish and Catalan markets.",
        6_900,
    ),
    Person(
        "nina",
        "Nina Schröder",
        "nina-schroeder",
        "Packaging and print designer",
        "Düsseldorf, DE",
        "de, en, nl",
        "packaging design, print, illustrator",
        "From dieline to shelf; I speak fluent printer.",
        10_400,
    ),
    Person(
        "olusegun",
        "Olusegun Adeyemi",
        "olusegun-adeyemi",
        "Mobile developer",
        "Den Haag, NL",
        "en, nl",
        "flutter, kotlin, swift",
        "Apps for bike sharing, food delivery and one beekeeping club.",
        19_300,
    ),
    Person(
        "priya",
        "Priya Raghunathan",
        "priya-r",
        "Data scientist · annotation quality",
        "Eindhoven, NL",
        "en, ta, hi",
        "machine learning, data labelling, python",
        "I design labelling tasks and check that the answers mean something.",
        13_600,
    ),
    Person(
        "quinten",
        "Quinten Maas",
        "quinten-maas",
        "Student, product design (TU Delft)",
        "Delft, NL",
        "nl, en",
        "sketching, prototyping",
        "Learning by entering contests. Feedback very welcome.",
        2_000,
    ),
    Person(
        "rosa",
        "Rosa Verbeek",
        "rosa-verbeek",
        "Community moderator and editor",
        "Nijmegen, NL",
        "nl, en",
        "editing, moderation, proofreading",
        "Clear Dutch, kind moderation.",
        4_800,
    ),
    Person(
        "sofia",
        "Sofia Lindqvist",
        "sofia-lindqvist",
        "Scandinavian-minimal interior illustrator",
        "Malmö, SE",
        "sv, en",
        "illustration, interior design",
        "Room plans and cosy drawings of them.",
        9_900,
    ),
    Person(
        "thijs",
        "Thijs Koster",
        "thijs-koster",
        "Sound designer",
        "Zwolle, NL",
        "nl, en",
        "sound design, jingles, podcasts",
        "Jingles, intros and cleaned-up podcast audio.",
        7_100,
    ),
    Person(
        "umar",
        "Umar Farooq",
        "umar-farooq",
        "Accessibility tester",
        "Amsterdam, NL",
        "en, ur, nl",
        "accessibility, testing, wcag",
        "Screen-reader tests and WCAG reports that developers can act on.",
        8_200,
    ),
    Person(
        "vera",
        "Vera Peeters",
        "vera-peeters",
        "Social media designer",
        "Antwerpen, BE",
        "nl, en, fr",
        "social media, canva, illustration",
        "Posts, stories and banners that do not look like templates.",
        5_600,
    ),
    Person(
        "wei",
        "Wei Chen",
        "wei-chen",
        "Chinese translator and localiser",
        "Rotterdam, NL",
        "zh, en, nl",
        "translation, localisation",
        "Simplified and traditional Chinese; games and webshops.",
        12_700,
    ),
    Person(
        "yara",
        "Yara Haddad",
        "yara-haddad",
        "Typeface designer",
        "Den Haag, NL",
        "ar, en, nl",
        "type design, lettering, arabic script",
        "Bilingual Latin–Arabic type families and custom lettering.",
        16_300,
        portfolio=(("“Kade” type family", "A bilingual sans in six weights."),),
    ),
    Person(
        "zeynep",
        "Zeynep Arslan",
        "zeynep-arslan",
        "Idea-call regular and urban planner",
        "Utrecht, NL",
        "tr, nl, en",
        "urban planning, participation",
        "I like ideas about streets, benches and trees.",
        2_500,
    ),
    Person(
        "lucas",
        "Lucas Martin",
        "lucas-martin",
        "Video editor",
        "Lille, FR",
        "fr, en",
        "video editing, colour grading",
        "Short films, event aftermovies and product videos.",
        6_300,
    ),
]

ORGS = [
    Org(
        "bakkerij-van-der-meulen",
        "Bakkerij Van der Meulen",
        "https://bakkerij-vandermeulen.example",
        "Family bakery since 1952 with twelve shops around Haarlem. We crowdsource packaging, "
        "seasonal campaigns and new recipes from our customers.",
        owner="marieke",
        admins=("joost",),
        members=("fatima",),
        wallet_cents=2_500_000,
    ),
    Org(
        "woonhaven-rivierenland",
        "Woonhaven Rivierenland",
        "https://woonhaven.example",
        "Housing corporation with 9,000 homes along the rivers. Tenants help decide on "
        "gardens, playgrounds and energy-saving plans through our idea calls.",
        owner="pieter",
        admins=("sanne",),
        members=("ruben",),
        wallet_cents=5_000_000,
    ),
    Org(
        "vlot-labs",
        "Vlot Labs",
        "https://vlotlabs.example",
        "A design-minded Eindhoven start-up building shared electric cargo bikes for "
        "neighbourhoods.",
        owner="lotte",
        members=("daan",),
        wallet_cents=1_500_000,
    ),
]

EVERYONE = [STAFF, *CLIENTS, *ORG_PEOPLE, *CROWD]


# --- generated images ------------------------------------------------------------------


def _hue(seed: str) -> float:
    return int(hashlib.sha256(seed.encode()).hexdigest()[:6], 16) / 0xFFFFFF


def _rgb(h: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, lightness, saturation)
    return int(r * 255), int(g * 255), int(b * 255)


def _gradient(
    size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Image.Image:
    """A diagonal two-colour gradient (cheap: a 2×2 image scaled up smoothly)."""
    mid = tuple((a + b) // 2 for a, b in zip(top, bottom, strict=True))
    small = Image.new("RGB", (2, 2))
    small.putdata([top, mid, mid, bottom])
    return small.resize(size, Image.Resampling.BILINEAR)


def avatar_png(name: str) -> bytes:
    """A 512 px coloured gradient circle with the person's initials."""
    from .templatetags.accounts import initials

    hue = _hue(name)
    size = 512
    canvas = Image.new("RGB", (size, size), _rgb(hue, 0.96, 0.4))
    disc = _gradient((size, size), _rgb(hue, 0.62, 0.55), _rgb(hue + 0.08, 0.38, 0.6))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((16, 16, size - 16, size - 16), fill=255)
    canvas.paste(disc, (0, 0), mask)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=200)
    draw.text((size / 2, size / 2), initials(name), font=font, fill="white", anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def artwork_png(seed: str, width: int = 960, height: int = 720) -> bytes:
    """An abstract composition (gradient, circles, bands) standing in for a piece of work."""
    hue = _hue(seed)
    image = _gradient((width, height), _rgb(hue, 0.85, 0.5), _rgb(hue + 0.5, 0.55, 0.45))
    draw = ImageDraw.Draw(image, "RGBA")
    digest = hashlib.sha256(seed.encode()).digest()
    for i in range(6):
        x = digest[i] / 255 * width
        y = digest[i + 6] / 255 * height
        r = 40 + digest[i + 12] / 255 * 160
        colour = (*_rgb(hue + i * 0.13, 0.5, 0.65), 150)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    for i in range(3):
        y = height * (0.25 + i * 0.2)
        wave = [(x, y + 30 * math.sin(x / 80 + i)) for x in range(0, width + 20, 20)]
        draw.line(wave, fill=(255, 255, 255, 170), width=8)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


# --- creating ------------------------------------------------------------------------------


def _person_create(person: Person, *, avatar: bool) -> tuple[User, bool]:
    user = User.objects.filter(email__iexact=person.email).first()
    if user is not None:
        return user, False
    user = user_create(
        email=person.email,
        password=PASSWORD,
        display_name=person.name,
        handle=person.handle,
        is_staff=person.staff,
    )
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


def _fund(wallet: LedgerAccount, user: User, amount: int, key: str) -> bool:
    """Deposit ``amount`` once per ``key``: a sandbox deposit confirmed by a signed webhook."""
    if amount <= 0:
        return False
    deposit = deposit_create(wallet=wallet, user=user, amount=amount, idempotency_key=key)
    if deposit.status == Deposit.Status.PAID:
        return False
    body = sandbox_notification(deposit, "paid")
    webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))
    return True


def _org_create(org: Org, users: dict[str, User]) -> tuple[Organisation, bool]:
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


def load(stdout: IO[str]) -> list[tuple[str, str, str]]:
    users: dict[str, User] = {}
    new_people = 0
    for person in EVERYONE:
        user, created = _person_create(person, avatar=not person.staff)
        users[person.key] = user
        new_people += created
    new_orgs = 0
    funded = 0
    for org in ORGS:
        organisation, created = _org_create(org, users)
        new_orgs += created
        funded += _fund(
            wallet_for_organisation(organisation=organisation),
            users[org.owner],
            org.wallet_cents,
            f"demo:org:{org.slug}",
        )
    for person in EVERYONE:
        user = users[person.key]
        funded += _fund(
            wallet_for_user(user=user), user, person.wallet_cents, f"demo:wallet:{person.key}"
        )
    portfolio = PortfolioItem.objects.filter(owner__email__endswith=f"@{DOMAIN}").count()
    stdout.write(
        f"accounts: {new_people} new people ({len(EVERYONE)} in the demo: {len(CLIENTS)} "
        f"clients, {len(CROWD)} crowd members, {len(ORG_PEOPLE)} organisation staff, 1 staff), "
        f"{new_orgs} new organisations, {funded} wallets funded, {portfolio} portfolio items.\n"
    )
    return demo_logins()


def demo_logins() -> list[tuple[str, str, str]]:
    return [
        ("staff", STAFF.email, PASSWORD),
        ("client", CLIENTS[0].email, PASSWORD),
        ("client", CLIENTS[1].email, PASSWORD),
        ("organisation owner", f"{ORGS[0].owner}@{DOMAIN}", PASSWORD),
        ("crowd member", CROWD[0].email, PASSWORD),
        ("crowd member", CROWD[1].email, PASSWORD),
    ]


# --- for the other apps' demos -------------------------------------------------------------


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
            user = User.objects.filter(email=email).first() or user_create(
                email=email, password=PASSWORD, display_name=f"{name} {n}"
            )
            if user not in people:
                people.append(user)


def wallet_top_up(wallet: LedgerAccount, user: User, amount: int, key: str) -> None:
    """Top the wallet up through a real (sandbox) deposit so it holds at least ``amount``."""
    wallet.refresh_from_db()
    short = amount - wallet.balance
    if short > 0:
        _fund(wallet, user, max(short, 500), key)
