"""Defining a batch: the draft's fields, its items (uploaded CSV or JSON Lines).

Nothing here moves money; a batch is paid for when it is published (``funding``). A draft
is changed only while it is a draft, under its row lock.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, ValidationFailed
from trefpunt.core.money import format_cents

from ..formspec import form_spec_clean
from ..models import Batch, Item
from ..rendering import display_spec_clean
from ..selectors import batch_for_manager, hourly_cents, min_hourly_cents, reward_for_hourly
from ..states import batch_is_editable
from ..uploads import items_parse, max_items_per_batch

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation, User

MAX_REWARD_CENTS = 10_000
MAX_REDUNDANCY = 20


def _json_field(value: Any, field: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            fields={
                field: _("Not valid JSON (line %(line)d, column %(col)d: %(msg)s).")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            }
        ) from None


def _int_in(
    errors: dict[str, str], field: str, value: Any, low: int, high: int, message: str
) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = message
        return None
    return value


def _fraction(errors: dict[str, str], field: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        errors[field] = _("Enter a share between 0 and 1 (e.g. 0.9 for 90%).")
        return None
    return float(value)


def _batch_fields_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validate every field of a batch definition at once; ``ValidationFailed`` names each."""
    from trefpunt.accounts.services import languages_parse

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    title = (values.get("title") or "").strip()
    if len(title) < 3 or len(title) > 200:
        errors["title"] = _("Give the batch a title of 3–200 characters.")
    out["title"] = title
    instructions = (values.get("instructions") or "").strip()
    if len(instructions) > 20_000:
        errors["instructions"] = _("The instructions are at most 20,000 characters.")
    out["instructions"] = instructions
    for name, cleaner in (("form", form_spec_clean), ("display", display_spec_clean)):
        try:
            out[name] = cleaner(_json_field(values.get(name), name))
        except ValidationFailed as exc:
            errors.update({k: v[0] for k, v in exc.fields.items()})
    reward = _int_in(
        errors,
        "reward",
        values.get("reward"),
        1,
        MAX_REWARD_CENTS,
        _("The reward per answer must be between %(min)s and %(max)s.")
        % {"min": format_cents(1), "max": format_cents(MAX_REWARD_CENTS)},
    )
    out["reward"] = reward
    min_answers = _int_in(
        errors,
        "min_answers",
        values.get("min_answers", 3),
        1,
        MAX_REDUNDANCY,
        _("Ask for 1 to %(n)d answers per item.") % {"n": MAX_REDUNDANCY},
    )
    max_answers = _int_in(
        errors,
        "max_answers",
        values.get("max_answers", min_answers or 3),
        1,
        MAX_REDUNDANCY,
        _("Ask for 1 to %(n)d answers per item.") % {"n": MAX_REDUNDANCY},
    )
    if min_answers and max_answers and max_answers < min_answers:
        errors["max_answers"] = _("The maximum must be at least the minimum (%(n)d).") % {
            "n": min_answers
        }
    out["min_answers"], out["max_answers"] = min_answers, max_answers
    out["estimated_seconds"] = _int_in(
        errors,
        "estimated_seconds",
        values.get("estimated_seconds", 30),
        1,
        3600,
        _("Estimate between 1 second and 1 hour per task."),
    )
    out["lease_seconds"] = _int_in(
        errors,
        "lease_seconds",
        values.get("lease_seconds", 600),
        60,
        4 * 3600,
        _("The time per item must be between 1 minute and 4 hours."),
    )
    strategy = values.get("strategy") or Batch.Strategy.DEPTH
    if strategy not in Batch.Strategy.values:
        errors["strategy"] = _("Choose depth-first, breadth-first or random.")
    out["strategy"] = strategy
    out["min_approval_rate"] = _fraction(
        errors, "min_approval_rate", values.get("min_approval_rate")
    )
    out["min_gold_accuracy"] = _fraction(
        errors, "min_gold_accuracy", values.get("min_gold_accuracy")
    )
    try:
        out["languages"] = languages_parse(values.get("languages") or "")
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.fields.items()})
    cap = values.get("max_answers_per_worker")
    out["max_answers_per_worker"] = (
        None
        if cap in (None, "")
        else _int_in(
            errors,
            "max_answers_per_worker",
            cap,
            1,
            1_000_000,
            _("Leave empty for no limit, or allow at least one answer per worker."),
        )
    )
    method = values.get("aggregation_method") or Batch.Method.DS
    if method not in Batch.Method.values:
        errors["aggregation_method"] = _("Choose mv, wmv, ds or ods.")
    out["aggregation_method"] = method
    target = values.get("confidence_target", 0.95)
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0.5 <= target <= 1:
        errors["confidence_target"] = _("The confidence target is between 0.5 and 1.")
    out["confidence_target"] = target
    gold_rate = _fraction(errors, "gold_rate", values.get("gold_rate", 0.1))
    out["gold_rate"] = 0.1 if gold_rate is None else gold_rate
    out["gold_feedback"] = bool(values.get("gold_feedback", False))
    # Fair pay starts before the first answer: the client's own estimate must already pay
    # the platform minimum.
    if reward and out["estimated_seconds"] and "reward" not in errors:
        minimum = min_hourly_cents()
        hourly = hourly_cents(reward=reward, seconds=out["estimated_seconds"])
        if hourly is not None and hourly < minimum:
            errors["reward"] = _(
                "At %(seconds)d seconds per task this pays %(hourly)s an hour; the minimum is "
                "%(minimum)s. Raise the reward to at least %(needed)s."
            ) % {
                "seconds": out["estimated_seconds"],
                "hourly": format_cents(hourly),
                "minimum": format_cents(minimum),
                "needed": format_cents(
                    reward_for_hourly(hourly=minimum, seconds=out["estimated_seconds"])
                ),
            }
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _organisation_for_posting(*, user: User, slug: str | None) -> Organisation | None:
    if not slug:
        return None
    from trefpunt.accounts.selectors import organisations_user_can_post_for

    organisation = organisations_user_can_post_for(user=user).filter(slug=slug).first()
    if organisation is None:
        raise ValidationFailed(
            fields={"organisation": _("You can post only for organisations you administer.")}
        )
    return organisation


def batch_create(*, user: User, organisation_slug: str | None = None, **values: Any) -> Batch:
    """Create a draft batch; nothing is paid until ``batch_publish``."""
    cleaned = _batch_fields_clean(values)
    organisation = _organisation_for_posting(user=user, slug=organisation_slug)
    return Batch.objects.create(owner=user, organisation=organisation, **cleaned)


def batch_update(
    *, batch_id: int, user: User, organisation_slug: str | None = None, **values: Any
) -> Batch:
    """Change a draft. A published batch keeps its definition (workers rely on it); its
    reward can only go up, through ``batch_reward_raise``."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    cleaned = _batch_fields_clean(values)
    organisation = _organisation_for_posting(user=user, slug=organisation_slug)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if not batch_is_editable(batch):
            raise Conflict(_("Only a draft can be changed."), code=ErrorCode.NOT_DRAFT)
        if batch.items.exists():
            _columns_still_present(batch, cleaned["display"])
        for name, value in cleaned.items():
            setattr(batch, name, value)
        batch.organisation = organisation
        batch.save()
        Item.objects.filter(batch=batch, is_gold=False).update(answers_target=batch.min_answers)
        Item.objects.filter(batch=batch, is_gold=True).update(answers_target=batch.max_answers)
    return batch


def _columns_still_present(batch: Batch, display: list[dict[str, str]]) -> None:
    missing = [e["column"] for e in display if e["column"] not in (batch.item_columns or [])]
    if missing:
        raise ValidationFailed(
            fields={
                "display": _(
                    "The uploaded items have no column “%(column)s”; remove the items first."
                )
                % {"column": missing[0]}
            }
        )


def items_upload(*, batch_id: int, user: User, content: bytes, filename: str) -> int:
    """Add the items of a CSV or JSON Lines file to a draft; all or nothing. Returns the
    number of items added."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    if not batch_is_editable(batch):
        raise Conflict(
            _("Items can be added only while the batch is a draft."), code=ErrorCode.NOT_DRAFT
        )
    parsed = items_parse(content=content, filename=filename, display=batch.display, form=batch.form)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if not batch_is_editable(batch):
            raise Conflict(
                _("Items can be added only while the batch is a draft."), code=ErrorCode.NOT_DRAFT
            )
        existing = batch.items.aggregate(n=Count("pk"), last=Max("position"))
        if existing["n"] + len(parsed.items) > max_items_per_batch():
            raise ValidationFailed(
                fields={
                    "file": _("A batch holds at most %(n)d items; it has %(have)d already.")
                    % {"n": max_items_per_batch(), "have": existing["n"]}
                }
            )
        start = existing["last"] or 0
        Item.objects.bulk_create(
            [
                Item(
                    batch=batch,
                    position=start + index,
                    data=parsed_item.data,
                    is_gold=parsed_item.gold_answer is not None,
                    gold_answer=parsed_item.gold_answer,
                    # Test questions take answers up to the funded maximum: each scores
                    # as many workers as the budget allows.
                    answers_target=(
                        batch.max_answers
                        if parsed_item.gold_answer is not None
                        else batch.min_answers
                    ),
                )
                for index, parsed_item in enumerate(parsed.items, start=1)
            ],
            batch_size=2000,
        )
        columns = list(dict.fromkeys([*(batch.item_columns or []), *parsed.columns]))
        Batch.objects.filter(pk=batch.pk).update(item_columns=columns)
    return len(parsed.items)


def items_clear(*, batch_id: int, user: User) -> int:
    batch = batch_for_manager(batch_id=batch_id, user=user)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if not batch_is_editable(batch):
            raise Conflict(
                _("Items can be removed only while the batch is a draft."), code=ErrorCode.NOT_DRAFT
            )
        deleted, _detail = Item.objects.filter(batch=batch).delete()
        Batch.objects.filter(pk=batch.pk).update(item_columns=[])
    return deleted
