"""Dutch and English: URL prefixes, the shell in both languages, Dutch form errors, what the
API answers, a complete, compiled Dutch catalogue for every app, and Dutch contest and
microtask pages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation
from playwright.sync_api import expect

from trefpunt.accounts.models import Organisation, Profile, User
from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import PASSWORD, OrganisationFactory, UserFactory
from trefpunt.contests.tests.factories import make_user, published
from trefpunt.ledger.tests.factories import funded_wallet
from trefpunt.microtasks.tests.factories import published_batch

PO_PATH = Path(settings.LOCALE_PATHS[0]) / "nl" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
CODE_DIR = Path(settings.BASE_DIR)  # the trefpunt package: every app, templates, settings
# What makemessages reads; tests are left out (as in `make messages`).
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
USES_GETTEXT = re.compile(
    r"\b(?:gettext|gettext_lazy|ngettext|ngettext_lazy|pgettext|pgettext_lazy|npgettext|_)\("
    r"|{%\s*(?:translate|trans|blocktranslate|blocktrans)\b"
)
BAD_CHECKSUM_IBAN = "NL91ABNA0417164301"


# --- the .po file's entries -------------------------------------------------------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def apps(self) -> set[str]:
        """The top-level folders of trefpunt/ that use this string (``contests``, ...)."""
        return {ref.split("/")[1] for ref in self.references if ref.startswith("trefpunt/")}

    @property
    def complete(self) -> bool:
        plural_forms = 2 if self.msgid_plural else 1
        return len(self.msgstr) == plural_forms and all(self.msgstr.values())


def po_entries(path: Path = PO_PATH) -> list[PoEntry]:
    """Every entry of a gettext .po file (read with polib), obsolete ones marked as such."""
    import polib

    po = polib.pofile(str(path))
    header = "".join(f"{key}: {value}\n" for key, value in po.metadata.items())
    entries = [PoEntry(msgstr={0: header}, flags={"fuzzy"} if po.metadata_is_fuzzy else set())]
    for e in po:
        msgstr = dict(e.msgstr_plural) if e.msgid_plural else {0: e.msgstr}
        entries.append(
            PoEntry(
                msgid=e.msgid,
                msgid_plural=e.msgid_plural or None,
                msgctxt=e.msgctxt,
                msgstr={int(k): v for k, v in msgstr.items()},
                flags=set(e.flags),
                references=[ref for ref, _line in e.occurrences],
                obsolete=e.obsolete,
            )
        )
    return entries


def live_entries() -> list[PoEntry]:
    return [e for e in po_entries() if e.msgid and not e.obsolete]


PLACEHOLDER = re.compile(
    r"%\(\w+\)[-+ #0]*\d*(?:\.\d+)?[sdifr]"  # %(name)s, %(share).0f
    r"|%%|%[sdif]"
    r"|\{\w*\}"  # {name}
    r"|</?(?:a|b|br|code|em|i|p|small|span|strong)\b[^>]*>"  # HTML, not "<field name>"
)


def words(text: str) -> int:
    """Words of a message, placeholders and tags left out ("%(m)d min %(s)d s" has two)."""
    return sum(1 for word in PLACEHOLDER.sub(" ", text).split() if re.search(r"[^\W\d_]", word))


def placeholders(text: str) -> list[str]:
    """Placeholders and HTML tags of a message, in sorted order."""
    return sorted(PLACEHOLDER.findall(text))


# --- the catalogue -------------------------------------------------------------------------


def apps_with_user_text() -> set[str]:
    """Every folder (or top-level module) of trefpunt/ whose code or templates, tests aside,
    call gettext: named as the catalogue's references name them (``contests``, ``api.py``)."""
    apps = set()
    for path in CODE_DIR.rglob("*"):
        relative = path.relative_to(CODE_DIR).parts
        if (
            path.suffix in SOURCE_SUFFIXES
            and "tests" not in relative
            and relative[0] not in apps
            and USES_GETTEXT.search(path.read_text(encoding="utf-8", errors="replace"))
        ):
            apps.add(relative[0])
    return apps


def test_po_has_strings_of_every_app_that_uses_gettext() -> None:
    """A new app whose strings were never extracted shows up here (by folder name)."""
    in_catalogue = set().union(*(e.apps for e in live_entries()))
    apps = apps_with_user_text()

    assert {"templates", "core", "accounts", "ledger", "contests", "microtasks"} <= apps
    assert sorted(apps - in_catalogue) == [], "run `make messages` and translate the new app"
    assert len(live_entries()) > 1000


def test_po_has_a_dutch_translation_for_every_string_of_every_app() -> None:
    missing = [(e.msgctxt, e.msgid, e.references[:1]) for e in live_entries() if not e.complete]
    fuzzy = [(e.msgid, e.references[:1]) for e in live_entries() if "fuzzy" in e.flags]

    assert missing == [], "translate these in locale/nl/LC_MESSAGES/django.po"
    assert fuzzy == [], "review these fuzzy entries and drop the fuzzy flag"


@pytest.mark.parametrize("app", ["contests", "microtasks"])
def test_po_translates_the_contest_and_microtask_strings(app: str) -> None:
    """The two big apps are in the catalogue with Dutch that differs from the English."""
    entries = [e for e in live_entries() if app in e.apps]
    untranslated_looking = [
        e.msgid for e in entries if words(e.msgid) > 3 and e.msgstr.get(0) == e.msgid
    ]

    assert len(entries) > 200
    assert untranslated_looking == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext (msgfmt)")
def test_po_passes_msgfmt_check() -> None:
    """What compilemessages runs: format strings, plurals and the header must be valid."""
    msgfmt = cast(str, shutil.which("msgfmt"))
    result = subprocess.run(  # noqa: S603 - our own catalogue, a fixed argument list
        [msgfmt, "--check", "-o", os.devnull, str(PO_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_po_translations_keep_every_placeholder_and_tag() -> None:
    broken = [
        (e.msgid, text)
        for e in live_entries()
        if "fuzzy" not in e.flags  # msgfmt leaves fuzzy entries out of the .mo
        for index, text in e.msgstr.items()
        if text
        and placeholders(text) != placeholders((e.msgid_plural or e.msgid) if index else e.msgid)
    ]

    assert broken == []


def test_po_header_is_not_fuzzy_and_names_dutch_plurals() -> None:
    header = next(e for e in po_entries() if e.msgid == "")

    assert "fuzzy" not in header.flags
    assert "Language: nl\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_mo_matches_the_po_for_every_translated_string() -> None:
    """A stale or missing django.mo serves English (or another app's wording) on /nl/."""
    assert MO_PATH.exists(), "run: manage.py compilemessages --ignore=.venv --ignore=.tools"
    stale = []
    with translation.override("nl"):
        for e in live_entries():
            if not all(e.msgstr.values()) or "fuzzy" in e.flags:
                continue
            if e.msgid_plural:
                got = [
                    translation.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                    if e.msgctxt
                    else translation.ngettext(e.msgid, e.msgid_plural, n)
                    for n in (1, 2)
                ]
                want = [e.msgstr[0], e.msgstr[1]]
            else:
                got = [
                    translation.pgettext(e.msgctxt, e.msgid)
                    if e.msgctxt
                    else translation.gettext(e.msgid)
                ]
                want = [e.msgstr[0]]
            if got != want:
                stale.append(e.msgid)

    assert stale == [], "django.mo is stale: run manage.py compilemessages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_fresh_extraction_finds_no_new_or_changed_string_in_any_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extract the strings of every app again into a scratch copy of the catalogue: every
    entry must still be translated and none fuzzy (a new string, a changed one, or a plural
    added to an old one all fail here).

    makemessages writes next to the nearest locale folder, so it runs in a scratch folder
    that links to the code and holds a copy of the catalogue: the real one stays untouched.
    """
    scratch = tmp_path / "locale" / "nl" / "LC_MESSAGES" / "django.po"
    scratch.parent.mkdir(parents=True)
    shutil.copy(PO_PATH, scratch)
    (tmp_path / "trefpunt").symlink_to(CODE_DIR, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command(
            "makemessages",
            locale=["nl"],
            symlinks=True,
            ignore_patterns=["*/tests/*"],
            add_location="file",
            verbosity=0,
        )
    fresh = [e for e in po_entries(scratch) if e.msgid and not e.obsolete]
    not_ready = [
        (e.msgctxt, e.msgid, e.references[:1])
        for e in fresh
        if not e.complete or "fuzzy" in e.flags
    ]

    assert {app for e in fresh for app in e.apps} >= {"contests", "microtasks", "ledger"}
    assert not_ready == [], "run `make messages`, translate the new strings and commit the .po/.mo"


# --- the shell in both languages ----------------------------------------------------------


@pytest.mark.django_db
def test_home_page_under_nl_shows_the_shell_in_dutch(client: Client) -> None:
    response = client.get("/nl/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="nl">' in html
    assert "Het trefpunt van opdrachtgevers en de crowd" in html
    assert "The meeting point of clients and the crowd" not in html
    assert ">Inloggen<" in html
    assert ">Registreren<" in html
    assert ">Sign up<" not in html
    assert "Trefpunt is opensource-crowdsourcing die je zelf kunt draaien." in html
    assert "open-source crowdsourcing you can run yourself" not in html
    assert ">Naar de inhoud<" in html


@pytest.mark.django_db
def test_home_page_under_en_shows_the_shell_in_english(client: Client) -> None:
    response = client.get("/en/")

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "The meeting point of clients and the crowd" in html
    assert ">Sign up<" in html
    assert "Trefpunt is open-source crowdsourcing you can run yourself." in html
    assert "Het trefpunt van opdrachtgevers" not in html
    assert "Registreren" not in html


@pytest.mark.django_db
def test_navigation_of_a_member_under_nl_is_dutch(client: Client, user: User) -> None:
    client.force_login(user)

    html = client.get("/nl/").content.decode()

    for dutch in ["Portemonnee", "Mijn profiel", "Profiel bewerken", "Organisaties", "Uitloggen"]:
        assert f">{dutch}<" in html
    for english in ["Wallet", "My profile", "Edit profile", "Log out"]:
        assert f">{english}<" not in html


@pytest.mark.django_db
def test_navigation_links_follow_the_language_and_the_current_page(
    client: Client, user: User
) -> None:
    """The chrome's addresses are reversed once per language and kept (``url_cached``):
    one language's addresses never show under the other, and the current link moves."""
    client.force_login(user)

    english = client.get("/en/contests/").content.decode()
    dutch = client.get("/nl/microtasks/").content.decode()

    assert 'href="/en/wallet/"' in english and 'href="/nl/wallet/"' not in english
    assert 'href="/nl/wallet/"' in dutch and 'href="/en/wallet/"' not in dutch
    assert '<a href="/en/contests/" aria-current=page>' in english
    assert '<a href="/nl/microtasks/" aria-current=page>' in dutch
    assert '<a href="/nl/contests/" aria-current=page>' not in dutch


@pytest.mark.django_db
def test_the_navigation_lists_the_modes_in_the_home_pages_order(client: Client) -> None:
    html = client.get("/nl/").content.decode()
    nav = html[html.index('class="nav-main') :]
    nav = nav[: nav.index("</ul>")]
    found = re.findall(r'href="/nl/(contests|ideas|microtasks|projects)/"', nav)
    assert found == ["contests", "ideas", "microtasks", "projects"]
    cards = re.findall(r"mode-card mode-(\w+)", html)
    assert cards == found


@pytest.mark.django_db
def test_page_chrome_reverses_its_links_once_per_process(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trefpunt.core.templatetags import core

    client.force_login(user)
    client.get("/en/wallet/")
    calls: list[str] = []
    original = core.reverse

    def counted(*args: Any, **kwargs: Any) -> str:
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(core, "reverse", counted)

    client.get("/en/wallet/")

    assert calls == []


@pytest.mark.django_db
def test_user_menu_is_kept_per_language_and_staff_flag_with_each_persons_profile(
    client: Client, user: User, staff_user: User
) -> None:
    """The user menu is rendered once per language and staff flag (``user_menu``): each
    person still gets their own profile link, and only staff get the staff links."""
    handles = {}
    pages = {}
    for person in (user, staff_user, user):
        client.force_login(person)
        handles[person.pk] = Profile.objects.get(user=person).handle
        pages[person.pk] = client.get("/nl/contests/").content.decode()
    mine, staffs = pages[user.pk], pages[staff_user.pk]

    assert mine.count(f'<a href="/nl/@{handles[user.pk]}/">Mijn profiel</a>') == 2
    assert staffs.count(f'<a href="/nl/@{handles[staff_user.pk]}/">Mijn profiel</a>') == 2
    assert handles[staff_user.pk] not in mine
    assert staffs.count('href="/nl/moderation/') >= 2
    assert 'href="/nl/moderation/' not in mine
    assert ">Uitloggen<" in mine and ">Log out<" not in mine


@pytest.mark.parametrize(
    ("accept_language", "prefix"),
    [("nl", "/nl/"), ("nl-NL,nl;q=0.9,en;q=0.8", "/nl/"), ("en-GB", "/en/"), ("fr", "/en/")],
)
@pytest.mark.django_db
def test_root_redirects_to_the_language_prefix_the_browser_asks_for(
    client: Client, accept_language: str, prefix: str
) -> None:
    response = client.get("/", headers={"Accept-Language": accept_language})

    assert response.status_code == 302
    assert response["Location"] == prefix


@pytest.mark.django_db
def test_root_without_accept_language_redirects_to_english(client: Client) -> None:
    response = client.get("/")

    assert response["Location"] == "/en/"


@pytest.mark.django_db
def test_language_switch_points_to_the_same_page_in_the_other_language(
    client: Client, user: User
) -> None:
    client.force_login(user)
    handle = user.profile.handle

    wallet = client.get("/nl/wallet/?page=1").content.decode()
    profile = client.get(f"/en/@{handle}/").content.decode()

    assert 'href="/en/wallet/?page=1" hreflang="en"' in wallet
    assert 'href="/nl/wallet/?page=1" hreflang="nl"' in wallet
    assert f'href="/nl/@{handle}/" hreflang="nl"' in profile
    assert re.search(r'hreflang="nl" lang="nl">Nederlands<', profile)
    assert re.search(r'hreflang="en" lang="en">English<', wallet)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_language_switch_in_a_real_browser_keeps_the_page(browser: Any, live_server: Any) -> None:
    member = cast(User, UserFactory())
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", viewport={"width": 1440, "height": 900}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Het trefpunt van opdrachtgevers en de crowd"
        )
        page.get_by_role("banner").get_by_role("link", name="Inloggen").click()
        page.get_by_label("E-mailadres").fill(member.email)
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.locator("form").get_by_role("button", name="Inloggen").click()
        page.get_by_role("banner").locator("details.dropdown:not(.lang-switch) > summary").click()
        page.get_by_role("link", name="Portemonnee").click()  # in the user menu at 1440 px
        expect(page.get_by_role("heading", name="Je portemonnee")).to_be_visible()

        page.locator("details.lang-switch > summary").click()  # the wide header's switch
        page.get_by_role("link", name="English").click()

        expect(page.get_by_role("heading", name="Your wallet")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/en/wallet/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Your wallet")
    finally:
        context.close()


# --- Dutch form errors --------------------------------------------------------------------


def field_error(html: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</small>', html, re.S)
    return match.group(1).strip() if match else ""


@pytest.mark.django_db
def test_payout_form_under_nl_shows_a_bad_iban_in_dutch(client: Client, user: User) -> None:
    funded_wallet(user, 5000)
    client.force_login(user)

    response = client.post(
        "/nl/wallet/payout/",
        {"amount": "30", "iban": BAD_CHECKSUM_IBAN, "account_holder": "A. Lid"},
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert field_error(html, "iban").startswith("De controlecijfers van deze IBAN kloppen niet")
    assert "check digits" not in html
    assert "Verbeter het gemarkeerde veld hieronder:" in html
    assert "Uitbetaling aanvragen" in html


@pytest.mark.django_db
def test_payout_form_under_nl_names_missing_fields_in_dutch(client: Client, user: User) -> None:
    funded_wallet(user, 5000)
    client.force_login(user)

    html = client.post("/nl/wallet/payout/", {}).content.decode()

    assert field_error(html, "account_holder") == "Dit veld is verplicht."
    assert "This field is required." not in html


@pytest.mark.django_db
def test_profile_edit_under_nl_shows_a_taken_handle_in_dutch(client: Client, user: User) -> None:
    Profile.objects.filter(user=UserFactory.create()).update(handle="bezet")
    client.force_login(user)

    response = client.post(
        "/nl/settings/profile/",
        {"display_name": "Anna", "handle": "bezet", "languages": "nl", "skills": ""},
    )

    html = response.content.decode()
    assert field_error(html, "handle") == "Deze gebruikersnaam is al bezet."
    assert "Er is nog niets opgeslagen." in html
    assert "This handle is taken." not in html


@pytest.mark.django_db
def test_organisation_page_under_nl_shows_roles_and_counts_in_dutch(
    client: Client, user: User
) -> None:
    organisation = cast(Organisation, OrganisationFactory(user=user))
    client.force_login(user)

    html = client.get(f"/nl/orgs/{organisation.slug}/").content.decode()

    assert "1 lid" in html
    assert ">Leden<" in html
    assert "Jij: Eigenaar" in html
    assert "Iemand uitnodigen" in html


@pytest.mark.django_db
def test_sign_up_page_under_nl_says_je_not_u(client: Client) -> None:
    """Django's own Dutch password help says "Uw"; trefpunt/core/i18n_overrides.py rewords it."""
    html = client.get("/nl/accounts/signup/").content.decode()

    assert "Je wachtwoord mag geen veelgebruikt wachtwoord zijn." in html
    assert "Je wachtwoord moet minstens 8 tekens lang zijn." in html
    assert not re.search(r"\b[Uu]w\b", html)


# --- the API ------------------------------------------------------------------------------


def api_client(user: User) -> tuple[Client, dict[str, str]]:
    _token, raw = api_token_create(user=user, name="i18n test")
    return Client(), {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db
def test_api_answers_in_english_by_default_with_a_stable_code(user: User) -> None:
    client, auth = api_client(user)

    response = client.get(
        "/api/v1/wallet/deposits/00000000-0000-0000-0000-000000000000", headers=auth
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"] == "Payment not found."


@pytest.mark.django_db
def test_api_messages_follow_accept_language_while_codes_and_fields_stay(user: User) -> None:
    funded_wallet(user, 5000)
    client, auth = api_client(user)

    response = client.post(
        "/api/v1/wallet/payouts",
        {"amount": 3000, "iban": BAD_CHECKSUM_IBAN, "account_holder": "A. Lid"},
        content_type="application/json",
        headers={**auth, "Accept-Language": "nl"},
    )

    error = response.json()["error"]
    assert response.status_code == 422
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["iban"]
    assert error["fields"]["iban"][0].startswith("De controlecijfers van deze IBAN kloppen niet")
    assert error["message"] == "Sommige velden zijn niet goed ingevuld."


@pytest.mark.django_db
def test_api_authentication_error_follows_accept_language_with_a_stable_code(db: None) -> None:
    response = Client().get(
        "/api/v1/wallet", headers={"Authorization": "Bearer tp_wrong", "Accept-Language": "nl"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.json()["error"]["message"].startswith(
        "Stuur een geldig persoonlijk toegangstoken"
    )


@pytest.mark.django_db
def test_opening_a_prefixed_page_remembers_the_language_for_pages_without_prefix(
    client: Client,
) -> None:
    client.get("/nl/", HTTP_ACCEPT_LANGUAGE="en")

    assert client.cookies["django_language"].value == "nl"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/nl/"


# --- contest and microtask pages ----------------------------------------------------------


@pytest.mark.django_db
def test_contest_page_under_nl_explains_the_guarantee_in_dutch(client: Client) -> None:
    contest = published(make_user(), title="Logo voor een bakkerij")

    html = client.get(f"/nl/contests/{contest.pk}/").content.decode()

    assert "Zo werkt de garantie" in html
    assert "Gegarandeerd: de prijzen staan in bewaring en worden uitbetaald." in html
    assert "Log in om mee te doen" in html
    assert "How the guarantee works" not in html
    assert "Log in to enter" not in html


@pytest.mark.django_db
def test_microtask_results_and_workers_under_nl_are_dutch(client: Client) -> None:
    batch = published_batch(items=3)
    client.force_login(batch.owner)

    results = client.get(f"/nl/microtasks/manage/{batch.pk}/results/").content.decode()
    workers = client.get(f"/nl/microtasks/manage/{batch.pk}/workers/").content.decode()

    for dutch in ["Resultaten", "Samengevoegd antwoord", "Betrouwbaarheid", "Overeenkomst"]:
        assert f">{dutch}<" in results
    assert "Onder het doel" in results
    assert ">Combined answer<" not in results
    assert "Below the target" not in results
    assert ">Crowdworkers<" in workers
    assert "Crowdworkers staan hier onder een id dat alleen in deze batch geldt." in workers
