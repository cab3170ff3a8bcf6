"""A person's privacy rights: everything the platform holds about them as one download, and
leaving for good.

``personal_data_export`` writes a zip: ``data/<model>.json`` with every row of every
registered model that belongs to the person (``registry``), without secrets, and
``files/<model>/<id>/…`` with their files, plus ``manifest.json``.

``account_delete`` anonymises the account and profile (the public work stays, shown as
"former member"), deletes or anonymises the rest per the registered rules, and keeps every
ledger line. It is refused while money is still on its way (``open_money_check_register``)
or while the person is the last owner of an organisation.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING, Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Model
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

# FORMER_MEMBER: stored in English, read in the reader's language (``DisplayNameField``).
from trefpunt.accounts.models import FORMER_MEMBER
from trefpunt.core.exceptions import Conflict, ErrorCode

from .registry import (
    DELETE,
    KEEP,
    PersonalData,
    account_erased_hooks,
    open_money_checks,
    personal_data_rules,
)

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

FORMAT_VERSION = 1


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return None
    return value


def _row(obj: Model, rule: PersonalData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in rule.secret:
            continue
        out[field.attname] = _value(getattr(obj, field.attname))
    return out


def personal_data_export(*, user: User) -> IO[bytes]:
    """The person's data as a zip in a temporary file (read from the start)."""
    tables: dict[str, dict[Any, dict[str, Any]]] = {}
    files: list[tuple[str, FieldFile]] = []
    for rule in personal_data_rules():
        if not rule.export:
            continue
        label = rule.model.lower()
        table = tables.setdefault(label, {})
        for obj in rule.rows(user):
            table.setdefault(obj.pk, _row(obj, rule))
            for name in rule.files:
                field_file = getattr(obj, name)
                if field_file:
                    base = PurePosixPath(field_file.name).name
                    files.append((f"files/{label}/{obj.pk}/{name}-{base}", field_file))
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    missing = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for label, rows in sorted(tables.items()):
            body = json.dumps(list(rows.values()), ensure_ascii=False, indent=1, default=str)
            archive.writestr(f"data/{label}.json", body)
        written = set()
        for path, field_file in files:
            if path in written:
                continue
            try:
                with field_file.storage.open(str(field_file.name), "rb") as handle:
                    archive.writestr(path, handle.read())
                written.add(path)
            except (FileNotFoundError, OSError):
                missing.append(path)
        manifest = {
            "format": FORMAT_VERSION,
            "exported_at": timezone.now().isoformat(),
            "user_id": user.pk,
            "tables": {label: len(rows) for label, rows in sorted(tables.items())},
            "files": sorted(written),
            "files_missing": missing,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    out.seek(0)
    return out


def account_delete_problems(*, user: User) -> list[str]:
    """What must be settled before the account can go (empty: nothing)."""
    from trefpunt.accounts.models import Membership, Role

    problems = [p for check in open_money_checks() for p in check(user)]
    owned = Membership.objects.filter(user=user, role=Role.OWNER).values("organisation_id")
    lonely = (
        Membership.objects.filter(organisation_id__in=owned, role=Role.OWNER)
        .values("organisation_id")
        .annotate(owners=Count("pk"))
        .filter(owners=1)
    )
    if lonely.exists():
        problems.append(
            _("You are the only owner of an organisation: make someone else an owner first.")
        )
    return problems


def account_delete(*, user: User) -> None:
    """Anonymise the account and remove the person's data (see the module docstring).
    Raises ``Conflict(open_money)`` listing what to settle first. Files of deleted rows
    are removed after commit. Repeating it on a deleted account changes nothing."""
    from trefpunt.accounts.models import Invitation, Profile, Skill
    from trefpunt.core.models import IdempotencyRecord

    user_model = get_user_model()
    with transaction.atomic(durable=True):
        locked = user_model._default_manager.select_for_update().get(pk=user.pk)
        problems = account_delete_problems(user=locked)
        if problems:
            raise Conflict(
                " ".join(problems), code=ErrorCode.OPEN_MONEY, fields={"__all__": problems}
            )
        doomed: list[FieldFile] = []
        # Rows reached through a parent first (their files), then the direct ones.
        for rule in sorted(personal_data_rules(), key=lambda r: -r.lookup.count("__")):
            if rule.erase == KEEP or rule.lookup == "pk":
                continue
            rows = rule.rows(locked)
            if rule.erase == DELETE:
                for obj in rows:
                    doomed.extend(f for f in (getattr(obj, n) for n in rule.files) if f)
                rows.delete()
            elif callable(rule.erase):
                rule.erase(rows)
        Invitation.objects.filter(email__iexact=locked.email, accepted_at__isnull=True).delete()
        IdempotencyRecord.objects.filter(owner=f"user:{locked.pk}").delete()
        profile = Profile.objects.filter(user=locked).first()
        former = (
            [profile.display_name, profile.handle, profile.headline, profile.location, profile.bio]
            if profile is not None
            else []
        )
        if profile is not None:
            if profile.avatar:
                doomed.append(profile.avatar)
            skills = list(profile.skills.values_list("pk", flat=True))
            profile.skills.clear()
            # A skill only this person named is their words, not a shared tag.
            Skill.objects.filter(pk__in=skills, profiles__isnull=True).delete()
            Profile.objects.filter(pk=profile.pk).update(
                handle=f"former-{locked.pk}",
                display_name=FORMER_MEMBER,
                headline="",
                bio="",
                location="",
                languages=[],
                avatar="",
            )
        for hook in account_erased_hooks():
            hook(former)
        locked.email = f"former-member-{locked.pk}@deleted.invalid"
        locked.set_unusable_password()  # also ends every session (their hash changes)
        locked.is_active = False
        locked.is_staff = False
        locked.is_superuser = False
        locked.last_login = None
        locked.save()
        names = [(f.storage, str(f.name)) for f in doomed]
        transaction.on_commit(lambda: _files_delete(names))


def _files_delete(names: list[tuple[Any, str]]) -> None:
    for storage, name in names:
        with contextlib.suppress(OSError):
            storage.delete(name)


def account_is_deleted(user: Any) -> bool:
    return bool(user.email.endswith("@deleted.invalid")) and not user.is_active


__all__ = [
    "FORMER_MEMBER",
    "account_delete",
    "account_delete_problems",
    "account_is_deleted",
    "personal_data_export",
]
