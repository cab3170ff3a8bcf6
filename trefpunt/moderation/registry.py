"""What can be reported, and what a take-down does, per kind of thing.

Each app registers its reportable models in its own ``moderation.py`` (a ``register()``
function, found at start-up by ``reportables_discover``), one small call per model::

    reportable_register(
        "contests.entry",
        model=Entry,
        label=gettext_lazy("Contest entry"),
        author_field="entrant",
        visible_to=lambda entry, user: ...,      # who may see (and so report) it
        title=lambda entry: entry.title,
        hide=entry_hidden_set,                   # (obj, hidden) → hides or shows it again
        take_down=None,                          # ends funded work: refunds, tells the crowd
        public_of_author=lambda user_id: ...,    # hidden while the author is suspended
    )

Without ``hide``, hiding is kept by moderation itself (``Decision`` rows) and the app
reads it with ``selectors.hidden_ids(kind)``. ``take_down`` returns ``TakenDown``: the
refund and who was told, for the audit line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


@dataclass(frozen=True)
class TakenDown:
    """What a take-down did: the cents refunded to the payer and the people told."""

    refunded: int = 0
    currency: str = "EUR"
    told: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Reportable:
    kind: str
    model: type[models.Model]
    label: Any
    author_field: str
    visible_to: Callable[[Any, User], bool]
    title: Callable[[Any], str]
    url: Callable[[Any], str] | None = None
    hide: Callable[[Any, bool], None] | None = None
    is_hidden: Callable[[Any], bool] | None = None
    take_down: Callable[[Any, User, str], TakenDown] | None = None
    public_of_author: Callable[[int], Iterable[int]] | None = None

    def get(self, object_id: int) -> Any | None:
        return self.model._default_manager.filter(pk=object_id).first()

    def author_id(self, obj: Any) -> int | None:
        value = getattr(obj, f"{self.author_field}_id", None)
        return int(value) if value is not None else None

    def link(self, obj: Any) -> str:
        if self.url is not None:
            return self.url(obj)
        getter = getattr(obj, "get_absolute_url", None)
        return str(getter()) if getter else ""

    @property
    def can_hide(self) -> bool:
        return self.take_down is None

    @property
    def can_take_down(self) -> bool:
        return self.take_down is not None


_REGISTRY: dict[str, Reportable] = {}


def reportable_register(kind: str, **spec: Any) -> Reportable:
    """Declare one reportable model (see the module docstring). Registering the same kind
    again replaces it (tests re-register)."""
    reportable = Reportable(kind=kind, **spec)
    _REGISTRY[kind] = reportable
    return reportable


def reportable(kind: str) -> Reportable | None:
    return _REGISTRY.get(kind)


def reportables() -> list[Reportable]:
    return sorted(_REGISTRY.values(), key=lambda r: r.kind)


def reportable_for(obj: models.Model) -> Reportable | None:
    return next((r for r in _REGISTRY.values() if isinstance(obj, r.model)), None)


def reportables_discover() -> None:
    """Call ``register()`` in every installed app's ``moderation`` module."""
    for config in apps.get_app_configs():
        name = f"{config.name}.moderation"
        if config.name == "trefpunt.moderation" or find_spec(config.name) is None:
            continue
        try:
            found = find_spec(name)
        except ModuleNotFoundError:
            found = None
        if found is None:
            continue
        module = import_module(name)
        register = getattr(module, "register", None)
        if callable(register):
            register()
