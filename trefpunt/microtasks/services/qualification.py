"""Qualification tests: before working on a batch that asks for one, a worker answers a few
of its test questions (gold items) in one go. A share right of at least the pass mark, within
the allowed attempts, qualifies them for the batch — or, with the client scope, for every
batch of the same client that has a test. Every answer counts in the worker's record on test
questions (``WorkerQuality``), like test questions met while working.

No money moves: a test is not paid. Lock: none; the unique attempt number keeps two tries
sent at once from both counting (the second is refused).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed

from ..formspec import answer_clean
from ..models import Batch, Item, QualificationAttempt
from ..quality import gold_matches
from ..selectors import batch_for_manager, batch_manages
from ..selectors.rules import worker_test_status
from ..states import batch_is_editable
from .aggregation import worker_quality_refresh_unlocked

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

TEST_QUESTIONS_MAX = 20


def batch_test_set(
    *,
    batch_id: int,
    user: User,
    questions: int,
    pass_mark: float = 0.8,
    attempts: int = 2,
    scope: str = Batch.TestScope.BATCH,
) -> Batch:
    """Ask workers to pass a test of ``questions`` test questions first (0: no test), with
    ``pass_mark`` the share right (0–1] and ``attempts`` tries. Only while the batch is a
    draft; publishing checks that the batch has that many test questions."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    if not batch_is_editable(batch):
        raise Conflict(_("Only a draft batch can be changed."), code=ErrorCode.NOT_DRAFT)
    errors: dict[str, str] = {}
    if isinstance(questions, bool) or not isinstance(questions, int):
        questions = -1
    if not 0 <= questions <= TEST_QUESTIONS_MAX:
        errors["test_questions"] = _("Ask between 0 (no test) and %(n)d test questions.") % {
            "n": TEST_QUESTIONS_MAX
        }
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int | float):
        pass_mark = -1
    if not 0 < pass_mark <= 1:
        errors["test_pass_mark"] = _("The pass mark is a share above 0 and at most 1.")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 10:
        errors["test_attempts"] = _("Allow between 1 and 10 attempts.")
    if scope not in Batch.TestScope.values:
        errors["test_scope"] = _("Choose this batch or all your batches.")
    if errors:
        raise ValidationFailed(fields=errors)
    batch.test_questions = questions
    batch.test_pass_mark = float(pass_mark)
    batch.test_attempts = attempts
    batch.test_scope = scope
    batch.save(update_fields=["test_questions", "test_pass_mark", "test_attempts", "test_scope"])
    return batch


def test_gold_problem(batch: Batch) -> str | None:
    """Why ``batch`` cannot be published with its test (too few test questions), or ``None``."""
    if not batch.test_questions:
        return None
    gold = Item.objects.filter(batch=batch, is_gold=True, gold_answer__isnull=False).count()
    if gold >= batch.test_questions:
        return None
    return _(
        "The qualification test asks %(n)d test questions, but the batch has %(gold)d. "
        "Upload more items with a known answer, or ask fewer."
    ) % {"n": batch.test_questions, "gold": gold}


def test_questions_for(*, batch: Batch, worker: User, number: int) -> list[Item]:
    """The test questions of the worker's attempt ``number``: a sample of the batch's gold
    items, the same on every page load of that attempt and different from one attempt to
    the next."""
    gold = list(
        Item.objects.filter(batch=batch, is_gold=True, gold_answer__isnull=False).order_by("pk")
    )
    rng = random.Random(f"{batch.pk}:{worker.pk}:{number}")
    return sorted(rng.sample(gold, min(batch.test_questions, len(gold))), key=lambda i: i.pk)


def _test_refusal(*, batch: Batch, worker: User) -> Conflict | None:
    if batch_manages(batch=batch, user=worker):
        return Conflict(_("You cannot work on a batch you manage."), code=ErrorCode.OWN_BATCH)
    if batch.status != Batch.Status.OPEN:
        return Conflict(_("This batch is not open."), code=ErrorCode.BATCH_NOT_OPEN)
    status = worker_test_status(batch=batch, user=worker)
    if not status.required:
        return Conflict(_("This batch has no qualification test."), code=ErrorCode.NO_TEST)
    if status.qualified:
        return Conflict(_("You already passed this test."), code=ErrorCode.TEST_PASSED)
    if status.attempts_left <= 0:
        return Conflict(
            _("You used all your attempts at this test."), code=ErrorCode.TEST_ATTEMPTS_USED
        )
    return None


def qualification_start(*, batch_id: int, worker: User) -> tuple[Batch, int, list[Item]]:
    """The batch, the attempt number and the questions the worker answers next; refused
    when they need no test (passed, or none asked) or have no attempt left."""
    batch = Batch.objects.exclude(status=Batch.Status.DRAFT).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("Batch not found."))
    if (refusal := _test_refusal(batch=batch, worker=worker)) is not None:
        raise refusal
    number = QualificationAttempt.objects.filter(batch=batch, worker=worker).count() + 1
    return batch, number, test_questions_for(batch=batch, worker=worker, number=number)


def qualification_submit(
    *, batch_id: int, worker: User, number: int, answers: dict[int, Any]
) -> QualificationAttempt:
    """Grade the worker's answers to attempt ``number`` (item id → answer) against the test
    questions, store the attempt, and count every answer in their record on test questions.

    Every question of the attempt must be answered in the form's shape; problems come back
    per question (field ``q<item id>``). An attempt number already used (a double submit)
    is refused."""
    batch, expected, items = qualification_start(batch_id=batch_id, worker=worker)
    if number != expected:
        raise Conflict(_("This attempt was already sent."), code=ErrorCode.TEST_ATTEMPTS_USED)
    cleaned: dict[int, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for item in items:
        try:
            cleaned[item.pk] = answer_clean(batch.form, answers.get(item.pk))
        except ValidationFailed as exc:
            errors[f"q{item.pk}"] = " ".join(m for msgs in exc.fields.values() for m in msgs)
    if errors:
        raise ValidationFailed(fields=errors)
    correct = sum(
        1 for item in items if gold_matches(batch.form, item.gold_answer, cleaned[item.pk])
    )
    total = len(items)
    try:
        with transaction.atomic(durable=True):
            attempt = QualificationAttempt.objects.create(
                batch=batch,
                worker=worker,
                number=number,
                answers={str(pk): data for pk, data in cleaned.items()},
                correct=correct,
                total=total,
                passed=total > 0 and correct / total >= batch.test_pass_mark,
            )
            worker_quality_refresh_unlocked(worker_ids=[worker.pk])
    except IntegrityError:
        raise Conflict(
            _("This attempt was already sent."), code=ErrorCode.TEST_ATTEMPTS_USED
        ) from None
    return attempt
