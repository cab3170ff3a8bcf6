"""The demo's people and organisations: who they are, what they do, what their wallets hold."""

from __future__ import annotations

from dataclasses import dataclass, field

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
