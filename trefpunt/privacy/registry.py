"""Where a person's data lives, and what happens to it when they leave.

Every model that points at a user (a foreign key or one-to-one to ``AUTH_USER_MODEL``) is
registered here, per field, with a ``PersonalData`` rule: whether its rows go into the
person's export (and which files they hold), and what deletion does with them:

- ``DELETE``: the rows go (notifications, tokens, follows — nothing anyone else relies on);
- ``KEEP``: the rows stay and point at the anonymised account, shown as "former member"
  (public work, the ledger and what others built on it);
- a function ``(queryset) -> None`` that anonymises in place (payout bank details).

A test fails when a model's user field is not registered, so a new mode cannot forget its
personal data. A mode registers its models from its ``AppConfig.ready``::

    personal_data_register(
        PersonalData("projects.Proposal", "freelancer", erase=KEEP),
        PersonalData("projects.ProposalFile", "proposal__freelancer", files=["file"],
                     erase=KEEP),
    )

``lookup`` is the path from the model to the user (a field name, or ``parent__field`` for
rows that belong to the person through a parent, registered for their files). Fields in
``secret`` are left out of the export (password hashes, token fingerprints, signing keys).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Model, QuerySet

DELETE = "delete"
KEEP = "keep"


@dataclass(frozen=True)
class PersonalData:
    model: str  # "app_label.ModelName"
    lookup: str
    export: bool = True
    files: Sequence[str] = ()
    secret: Sequence[str] = ()
    erase: str | Callable[[QuerySet[Any]], None] = KEEP
    why: str = field(default="", compare=False)

    @property
    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    def rows(self, user: Any) -> QuerySet[Any]:
        value = user.pk if self.lookup == "pk" else user
        return self.model_class._default_manager.filter(**{self.lookup: value}).order_by("pk")


_RULES: dict[tuple[str, str], PersonalData] = {}
# Checks that refuse deletion while money is still on its way: each returns the sentences
# that explain what to settle first (empty when nothing is open).
_OPEN_MONEY: list[Callable[[Any], list[str]]] = []
# Called inside the deletion's transaction with the person's former words (name, handle):
# derived copies elsewhere (the search index) forget them.
_ERASED: list[Callable[[list[str]], None]] = []


def personal_data_register(*rules: PersonalData) -> None:
    for rule in rules:
        _RULES[(rule.model.lower(), rule.lookup)] = rule


def personal_data_rules() -> list[PersonalData]:
    return list(_RULES.values())


def personal_data_covers(model: str, lookup: str) -> bool:
    return (model.lower(), lookup) in _RULES


def open_money_check_register(check: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    _OPEN_MONEY.append(check)
    return check


def open_money_checks() -> list[Callable[[Any], list[str]]]:
    return list(_OPEN_MONEY)


def account_erased_register(hook: Callable[[list[str]], None]) -> Callable[[list[str]], None]:
    _ERASED.append(hook)
    return hook


def account_erased_hooks() -> list[Callable[[list[str]], None]]:
    return list(_ERASED)
