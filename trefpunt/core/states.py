"""State moves in one style, for every mode: "move this object from state A to state B if it
is still in A", as one conditional update whose row count says who won, with the event
recorded in the same transaction.

A mode declares its states and allowed moves once::

    CONTEST_STATES = StateMachine(
        Contest,
        subject="contest",
        moves={Contest.Status.OPEN: {Contest.Status.DRAFT}, ...},  # to ← from
        refusal=_("You cannot %(action)s: the contest is %(status)s."),
    )

and its services call ``CONTEST_STATES.move(contest, Contest.Status.OPEN, actor=user,
event="published", published_at=now)``. Of two concurrent moves from the same state exactly
one updates the row; the other gets ``Conflict(wrong_state)`` naming the state it found.
Asking for a move the machine does not allow is a programming error (``ValueError``), never
a silent no-op. ``can`` answers the same question for capabilities, so a page never offers a
move the service would refuse for its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _

from .exceptions import Conflict, ErrorCode
from .models import Event

M = TypeVar("M", bound=models.Model)


class StateMachine(Generic[M]):
    def __init__(
        self,
        model: type[M],
        *,
        subject: str,
        moves: Mapping[str, Iterable[str]],
        field: str = "status",
        refusal: Any = None,
    ) -> None:
        self.model = model
        self.subject = subject
        self.field = field
        self.moves: dict[str, frozenset[str]] = {
            str(to): frozenset(str(s) for s in sources) for to, sources in moves.items()
        }
        # "You cannot %(action)s: the … is %(status)s." (lazy, translated when raised)
        self.refusal = refusal

    # --- reading ------------------------------------------------------------------------

    def sources(self, to: str) -> frozenset[str]:
        if str(to) not in self.moves:
            raise ValueError(f"{self.subject}: no move to {to!r} is declared")
        return self.moves[str(to)]

    def can(self, obj: M, to: str) -> bool:
        """Whether ``obj`` (as loaded) is in a state that may move to ``to``."""
        return str(getattr(obj, self.field)) in self.sources(to)

    def label(self, state: str) -> str:
        field = self.model._meta.get_field(self.field)
        labels = dict(field.flatchoices)  # type: ignore[union-attr]
        return str(labels.get(state, state)).lower()

    def wrong_state(self, obj: M, action: str) -> Conflict:
        """The refusal for ``action`` on ``obj`` in its current state."""
        state = str(getattr(obj, self.field))
        message = (
            self.refusal
            if self.refusal is not None
            else _("You cannot %(action)s in this state (%(status)s).")
        )
        return Conflict(
            str(message) % {"action": action, "status": self.label(state)},
            code=ErrorCode.WRONG_STATE,
        )

    def check(self, obj: M, to: str, action: str) -> None:
        """Raise the refusal unless ``obj`` may move to ``to`` (a cheap early check before
        taking locks; ``move`` checks again in the database)."""
        if not self.can(obj, to):
            raise self.wrong_state(obj, action)

    # --- writing ------------------------------------------------------------------------

    def move(
        self,
        obj: M,
        to: str,
        *,
        action: str = "",
        actor: Any = None,
        event: str = "",
        idempotency_key: str = "",
        data: Mapping[str, Any] | None = None,
        **updates: Any,
    ) -> None:
        """Move ``obj`` to ``to`` if its row is still in one of the allowed source states,
        setting ``updates`` in the same statement; record ``event`` (if given) in the same
        transaction. Refreshes the moved fields on ``obj``. Raises ``Conflict(wrong_state)``
        when the row was no longer in an allowed state (somebody else moved it first)."""
        sources = self.sources(to)
        # The refusal is raised after the block: raising inside ``atomic(savepoint=False)``
        # would mark the caller's whole transaction as broken, and nothing was written.
        with transaction.atomic(savepoint=False):
            updated = self.model._default_manager.filter(
                pk=obj.pk, **{f"{self.field}__in": sources}
            ).update(**{self.field: to}, **updates)
            if updated == 1:
                setattr(obj, self.field, to)
                for name, value in updates.items():
                    if not hasattr(value, "resolve_expression"):
                        setattr(obj, name, value)
                if event:
                    event_record(
                        subject=self.subject,
                        subject_id=int(obj.pk),
                        kind=event,
                        actor=actor,
                        idempotency_key=idempotency_key,
                        data=data,
                    )
                return
            current = (
                self.model._default_manager.filter(pk=obj.pk)
                .values_list(self.field, flat=True)
                .first()
            )
        setattr(obj, self.field, current)
        raise self.wrong_state(obj, action or _("do this"))

    def replayed(self, obj_id: int, event: str, idempotency_key: str) -> bool:
        """Whether this event was already recorded with this idempotency key (a repeated
        request returns the first result instead of acting again)."""
        return event_replayed(
            subject=self.subject, subject_id=obj_id, kind=event, idempotency_key=idempotency_key
        )


def event_record(
    *,
    subject: str,
    subject_id: int,
    kind: str,
    actor: Any = None,
    idempotency_key: str = "",
    data: Mapping[str, Any] | None = None,
) -> Event:
    """Append one event to the trail of ``subject:subject_id`` (joins the caller's
    transaction). The unique (subject, id, kind, key) makes a repeated keyed event fail."""
    return Event.objects.create(
        subject=subject,
        subject_id=subject_id,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        idempotency_key=idempotency_key,
        data=dict(data or {}),
    )


def event_replayed(*, subject: str, subject_id: int, kind: str, idempotency_key: str) -> bool:
    return (
        bool(idempotency_key)
        and Event.objects.filter(
            subject=subject, subject_id=subject_id, kind=kind, idempotency_key=idempotency_key
        ).exists()
    )
