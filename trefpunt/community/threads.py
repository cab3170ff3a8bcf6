"""Conversations tied to the work: what a thread can attach to, and who may see it.

A thread belongs to one piece of work — a contest entry (client ↔ entrant), a contest's
public questions, a microtask batch (one thread per worker with the client), a project
proposal or contract — named by ``subject`` (the mode's word, e.g. ``entry``), its id, and
a ``key`` that separates several threads on one subject (the worker's id on a batch; empty
when there is one thread). Each mode registers a ``ThreadKind`` for each subject it offers
(from ``AppConfig.ready``), saying who takes part, who may read, and how to name and link
the work. The rules live with the mode; this module applies them everywhere (pages, API,
notifications), so a thread nobody registered cannot exist, and a person outside a thread
gets "not found" for it whatever id they guess.

Direct messages between people who share no work are off: there is no kind for them,
except ``staff`` threads, which only staff can start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


@dataclass(frozen=True)
class ThreadTarget:
    """What a mode says about one subject: its readable title and link, the people who take
    part (they may read, post and are told of new messages), and whether anyone else who
    may see the work may read it too (a public Q&A)."""

    title: str
    url: str
    participants: frozenset[int]
    public: bool = False
    # Who else may read (and post to) it: e.g. on a public Q&A, anyone who can see the
    # contest may ask. None = only the participants.
    readers: Callable[[User | None], bool] | None = None


@dataclass(frozen=True)
class ThreadKind:
    subject: str
    label: Any
    # (subject ids, keys) → target per (id, key); one call per page of threads.
    resolve: Callable[[Sequence[tuple[int, str]]], dict[tuple[int, str], ThreadTarget]]
    # Whether ``user`` may start the thread ``(subject_id, key)``; the default is: any
    # participant of its target.
    may_start: Callable[[User, int, str], bool] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_KINDS: dict[str, ThreadKind] = {}


def thread_kinds_register(*kinds: ThreadKind) -> None:
    for kind in kinds:
        _KINDS[kind.subject] = kind


def thread_kind(subject: str) -> ThreadKind | None:
    return _KINDS.get(subject)


def thread_targets(
    keys: Sequence[tuple[str, int, str]],
) -> dict[tuple[str, int, str], ThreadTarget]:
    """The targets of many threads at once: one resolver call per subject."""
    by_subject: dict[str, list[tuple[int, str]]] = {}
    for subject, subject_id, key in keys:
        by_subject.setdefault(subject, []).append((subject_id, key))
    found: dict[tuple[str, int, str], ThreadTarget] = {}
    for subject, wanted in by_subject.items():
        kind = _KINDS.get(subject)
        if kind is None:
            continue
        for (subject_id, key), target in kind.resolve(wanted).items():
            found[(subject, subject_id, key)] = target
    return found


def target_may_read(target: ThreadTarget, user: User | None) -> bool:
    if user is not None and user.is_authenticated and user.pk in target.participants:
        return True
    return bool(target.public and target.readers is not None and target.readers(user))
