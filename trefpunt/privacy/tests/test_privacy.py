from __future__ import annotations

import io
import json
import zipfile
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.test import Client

from trefpunt.accounts.services import api_token_create, portfolio_item_create, profile_update
from trefpunt.accounts.tests.factories import PASSWORD, image_upload
from trefpunt.community.notifications import notify
from trefpunt.contests.services import entry_withdraw
from trefpunt.contests.tests.factories import (
    enter,
    join_organisation,
    make_organisation,
    make_user,
    published,
)
from trefpunt.ideas.tests.factories import open_call, post
from trefpunt.ledger.services import payout_mark_paid, payout_request, wallet_for_user
from trefpunt.ledger.tests.factories import funded_wallet
from trefpunt.privacy.registry import personal_data_covers, personal_data_rules
from trefpunt.privacy.services import FORMER_MEMBER, personal_data_export
from trefpunt.webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

EMAIL = "zora.quaestor@example.org"
NAME = "Zora Quaestorwitz"
HANDLE = "zoraquaestor"
BIO = "Grew up on Vlieland-Quaestor island"
HEADLINE = "Quaestor of illustrated maps"
LOCATION = "Quaestorhaven"
IBAN = "NL91ABNA0417164300"
HOLDER = "Z. Quaestorwitz-Holder"
MARKERS = [EMAIL, NAME, HANDLE, BIO, HEADLINE, LOCATION, IBAN, HOLDER, "quaestor"]


def api(user: Any) -> Client:
    _token, raw = api_token_create(user=user, name="privacy")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_every_model_with_a_user_field_is_covered_by_export_and_deletion():
    """A new model that points at a person must say what export and deletion do with it:
    register it in ``trefpunt.privacy`` (see registry.py)."""
    user_model = get_user_model()
    missing = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.concrete
        and field.is_relation
        and field.related_model is user_model
        and not personal_data_covers(model._meta.label, field.name)
    ]
    assert missing == [], f"register these in trefpunt.privacy: {missing}"
    # and every rule still names a real model and a real path to the person
    for rule in personal_data_rules():
        rule.rows(make_user()).exists()


def test_the_coverage_test_catches_an_unregistered_user_field():
    class Scrapbook(models.Model):
        owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

        class Meta:
            app_label = "privacy"

    try:
        assert not personal_data_covers("privacy.Scrapbook", "owner")
    finally:
        del apps.all_models["privacy"]["scrapbook"]
        apps.clear_cache()


def person() -> Any:
    user = make_user(email=EMAIL, display_name=NAME)
    profile_update(
        profile=user.profile,
        handle=HANDLE,
        display_name=NAME,
        headline=HEADLINE,
        bio=BIO,
        location=LOCATION,
        skills="maps, quaestorship",
        avatar=image_upload("me.png"),
    )
    portfolio_item_create(owner=user, title="Maps", images=[image_upload("map.png")])
    api_token_create(user=user, name="my script")
    return user


def busy(user: Any, on_commit: Any) -> dict[str, Any]:
    """The person's traces across the modes, every money flow settled."""
    client = make_user()
    contest = published(client)
    entry = enter(contest, user, title="Harbour map")
    call = open_call(client)
    idea = post(call, user, title="Quaestor ferries")
    wallet = funded_wallet(user, 5000)
    payout = payout_request(wallet=wallet, user=user, amount=5000, iban=IBAN, account_holder=HOLDER)
    payout_mark_paid(payout_id=payout.pk, staff=make_user(is_staff=True))
    endpoint_create(user=user, url="http://127.0.0.1:9/hook", events=["contest.awarded"])
    with on_commit(execute=True):
        notify(users=[user], kind="webhooks.endpoint_disabled", context={"url": "x", "hours": 1})
    return {"entry": entry, "idea": idea, "payout": payout, "contest": contest}


def test_export_holds_every_kind_of_record_and_the_files_without_secrets(
    django_capture_on_commit_callbacks,
):
    user = person()
    traces = busy(user, django_capture_on_commit_callbacks)
    answer = api(user).get("/api/v1/me/export")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/zip"
    raw = b"".join(answer.streaming_content)  # type: ignore[attr-defined]
    archive = zipfile.ZipFile(io.BytesIO(raw))
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    for table in [
        "accounts.user",
        "accounts.profile",
        "accounts.portfolioitem",
        "accounts.apitoken",
        "account.emailaddress",
        "contests.entry",
        "contests.entryfile",
        "ideas.idea",
        "ledger.ledgeraccount",
        "ledger.payout",
        "ledger.deposit",
        "community.notification",
        "webhooks.webhookendpoint",
    ]:
        assert manifest["tables"].get(table, 0) >= 1, table
        assert f"data/{table}.json" in names
    (me,) = json.loads(archive.read("data/accounts.user.json"))
    assert me["email"] == EMAIL
    assert "password" not in me
    (profile,) = json.loads(archive.read("data/accounts.profile.json"))
    assert profile["bio"] == BIO
    entries = json.loads(archive.read("data/contests.entry.json"))
    assert [e["id"] for e in entries] == [traces["entry"].pk]
    assert any(n.startswith("files/accounts.profile/") for n in names)
    assert any(n.startswith("files/accounts.portfolioimage/") for n in names)
    assert any(n.startswith("files/contests.entryfile/") for n in names)
    assert manifest["files_missing"] == []
    tokens = json.loads(archive.read("data/accounts.apitoken.json"))
    assert all("token_hash" not in t for t in tokens)
    secret = user.webhook_endpoints.get().secret
    assert all(secret.encode() not in archive.read(n) for n in names)
    assert user.password.encode() not in raw


def test_export_has_no_one_elses_rows():
    user, other = person(), make_user()
    portfolio_item_create(owner=other, title="Someone else's", images=[])
    archive = zipfile.ZipFile(personal_data_export(user=user))
    items = json.loads(archive.read("data/accounts.portfolioitem.json"))
    assert [i["title"] for i in items] == ["Maps"]


def test_delete_is_refused_while_money_is_open_and_says_what_to_settle():
    user = make_user()
    funded_wallet(user, 2500)
    answer = api(user).delete(f"/api/v1/me?confirm={user.email}")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "open_money"
    assert "payout" in answer.json()["error"]["message"]
    user.refresh_from_db()
    assert user.is_active


def test_delete_is_refused_for_the_last_owner_of_an_organisation():
    owner = make_user()
    organisation = make_organisation(owner)
    answer = api(owner).delete(f"/api/v1/me?confirm={owner.email}")
    assert answer.status_code == 409
    join_organisation(organisation, owner, "owner")
    assert api(owner).delete(f"/api/v1/me?confirm={owner.email}").status_code == 204


def test_delete_needs_the_email_as_confirmation():
    user = make_user()
    answer = api(user).delete("/api/v1/me?confirm=someone@example.org")
    assert answer.status_code == 422
    user.refresh_from_db()
    assert user.is_active


def _text_columns() -> list[tuple[type[models.Model], str]]:
    kinds = (models.CharField, models.TextField, models.JSONField)
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, kinds)
    ]


def test_delete_leaves_no_personal_data_in_any_table_and_the_ledger_balanced(
    django_capture_on_commit_callbacks,
):
    user = person()
    traces = busy(user, django_capture_on_commit_callbacks)
    refused = api(user).delete(f"/api/v1/me?confirm={EMAIL}")
    assert refused.status_code == 409  # the entry is still in a running contest
    entry_withdraw(entry_id=traces["entry"].pk, user=user)
    avatar = user.profile.avatar
    assert avatar.storage.exists(avatar.name)
    found_before = [
        (m._meta.label, f)
        for m, f in _text_columns()
        if m._default_manager.filter(**{f"{f}__icontains": "quaestor"}).exists()
    ]
    assert len(found_before) >= 5  # the scan does find the person where they are
    token = api_token_create(user=user, name="last")[1]
    with django_capture_on_commit_callbacks(execute=True):
        answer = Client(headers={"Authorization": f"Bearer {token}"}).delete(
            f"/api/v1/me?confirm={EMAIL}"
        )
    assert answer.status_code == 204
    leftovers = [
        (m._meta.label, f, marker)
        for m, f in _text_columns()
        for marker in MARKERS
        if m._default_manager.filter(**{f"{f}__icontains": marker}).exists()
    ]
    # Only what the person published stays (an idea's title), under a former member, and
    # the search index's copy of that title (SQLite also keeps its Dutch stems).
    assert set(leftovers) - {("discovery.SearchDocument", "stems", "quaestor")} == {
        ("discovery.SearchDocument", "title", "quaestor"),
        ("discovery.SearchWord", "word", "quaestor"),
        ("ideas.Idea", "title", "quaestor"),
    }
    user.refresh_from_db()
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.profile.display_name == FORMER_MEMBER
    assert not avatar.storage.exists(avatar.name)
    assert Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me").status_code == 401
    # public work stays, attributed to the former member; the ledger keeps its lines
    traces["entry"].refresh_from_db()
    assert traces["entry"].entrant_id == user.pk
    traces["payout"].refresh_from_db()
    assert traces["payout"].amount == 5000
    assert traces["payout"].iban == "NL**4300"
    out, err = StringIO(), StringIO()
    call_command("ledger_check", stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert wallet_for_user(user=user).balance == 0


def test_the_privacy_page_downloads_and_deletes(client):
    user = person()
    client.force_login(user)
    page = client.get("/en/settings/privacy/")
    assert page.status_code == 200
    download = client.get("/en/settings/privacy/export/")
    assert download.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).testzip() is None
    wrong = client.post("/en/settings/privacy/delete/", {"password": "nope", "confirm": "yes"})
    assert wrong.status_code == 400
    done = client.post("/en/settings/privacy/delete/", {"password": PASSWORD, "confirm": "yes"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert client.get("/en/settings/privacy/").status_code == 302  # logged out
