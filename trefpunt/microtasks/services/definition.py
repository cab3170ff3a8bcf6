"""Defining a batch: the draft's fields, its items (uploaded CSV or JSON Lines).

Nothing here moves money; a batch is paid for when it is published (``funding``). A draft
is changed only while it is a draft, under its row lock.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Max
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, ValidationFailed
from trefpunt.core.money import format_cents

from .. import limits
from ..formspec import form_spec_clean
from ..models import Batch, Item
from ..rendering import display_spec_clean
from ..selectors import batch_for_manager, hourly_cents, min_hourly_cents, reward_for_hourly
from ..states import batch_is_editable
from ..templatetags.microtasks_tags import duration
from ..uploads import items_parse, max_items_per_batch

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation, User


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


def reward_problem(reward: Any) -> str | None:
    """Why ``reward`` (cents per answer) is not a reward a batch may pay, or ``None``."""
    if (
        isinstance(reward, bool)
        or not isinstance(reward, int)
        or not limits.REWARD_MIN_CENTS <= reward <= limits.REWARD_MAX_CENTS
    ):
        return _("The reward per answer must be between %(min)s and %(max)s.") % {
            "min": format_cents(limits.REWARD_MIN_CENTS),
            "max": format_cents(limits.REWARD_MAX_CENTS),
        }
    return None


def _texts_clean(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    title = (values.get("title") or "").strip()
    if not limits.TITLE_MIN_LENGTH <= len(title) <= limits.TITLE_MAX_LENGTH:
        errors["title"] = _("Give the batch a title of %(min)d–%(max)d characters.") % {
            "min": limits.TITLE_MIN_LENGTH,
            "max": limits.TITLE_MAX_LENGTH,
        }
    instructions = (values.get("instructions") or "").strip()
    if len(instructions) > limits.INSTRUCTIONS_MAX_LENGTH:
        errors["instructions"] = _("The instructions are at most %(n)s characters.") % {
            "n": number_format(limits.INSTRUCTIONS_MAX_LENGTH, force_grouping=True)
        }
    out: dict[str, Any] = {"title": title, "instructions": instructions}
    for name, cleaner in (("form", form_spec_clean), ("display", display_spec_clean)):
        try:
            out[name] = cleaner(_json_field(values.get(name), name))
        except ValidationFailed as exc:
            errors.update({k: v[0] for k, v in exc.fields.items()})
    return out


def _pay_clean(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The reward and the time estimate; fair pay starts before the first answer: the
    client's own estimate must already pay the platform minimum."""
    reward: Any = values.get("reward")
    if (problem := reward_problem(reward)) is not None:
        errors["reward"] = problem
    seconds = _int_in(
        errors,
        "estimated_seconds",
        values.get("estimated_seconds", limits.DEFAULT_ESTIMATED_SECONDS),
        limits.ESTIMATED_SECONDS_MIN,
        limits.ESTIMATED_SECONDS_MAX,
        _("Estimate between %(min)s and %(max)s per task.")
        % {
            "min": duration(limits.ESTIMATED_SECONDS_MIN),
            "max": duration(limits.ESTIMATED_SECONDS_MAX),
        },
    )
    minimum = min_hourly_cents()
    hourly = None if problem is not None else hourly_cents(reward=reward, seconds=seconds)
    if seconds and hourly is not None and hourly < minimum:
        errors["reward"] = _(
            "At %(seconds)d seconds per task this pays %(hourly)s an hour; the minimum is "
            "%(minimum)s. Raise the reward to at least %(needed)s."
        ) % {
            "seconds": seconds,
            "hourly": format_cents(hourly),
            "minimum": format_cents(minimum),
            "needed": format_cents(reward_for_hourly(hourly=minimum, seconds=seconds)),
        }
    return {"reward": reward if problem is None else None, "estimated_seconds": seconds}


def _scheduling_clean(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Answers per item, time per item and the order items are handed out in."""
    most = limits.ANSWERS_PER_ITEM_MAX
    message = _("Ask for 1 to %(n)d answers per item.") % {"n": most}
    default = limits.DEFAULT_ANSWERS_PER_ITEM
    low = _int_in(errors, "min_answers", values.get("min_answers", default), 1, most, message)
    high = _int_in(
        errors, "max_answers", values.get("max_answers", low or default), 1, most, message
    )
    if low and high and high < low:
        errors["max_answers"] = _("The maximum must be at least the minimum (%(n)d).") % {"n": low}
    lease = _int_in(
        errors,
        "lease_seconds",
        values.get("lease_seconds", limits.DEFAULT_LEASE_SECONDS),
        limits.LEASE_SECONDS_MIN,
        limits.LEASE_SECONDS_MAX,
        _("The time per item must be between %(min)s and %(max)s.")
        % {"min": duration(limits.LEASE_SECONDS_MIN), "max": duration(limits.LEASE_SECONDS_MAX)},
    )
    strategy = values.get("strategy") or Batch.Strategy.DEPTH
    if strategy not in Batch.Strategy.values:
        errors["strategy"] = _("Choose depth-first, breadth-first or random.")
    return {
        "min_answers": low,
        "max_answers": high,
        "lease_seconds": lease,
        "strategy": strategy,
        "page_size": page_size_clean(errors, values.get("page_size", limits.DEFAULT_PAGE_SIZE)),
    }


def page_size_clean(errors: dict[str, str], value: Any) -> int | None:
    """How many items a worker claims and answers at once (a task page): 1 to
    ``limits.PAGE_SIZE_MAX``."""
    return _int_in(
        errors,
        "page_size",
        value,
        1,
        limits.PAGE_SIZE_MAX,
        _("Enter a whole number of items per page from 1 to %(n)d.") % {"n": limits.PAGE_SIZE_MAX},
    )


def _workers_clean(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Who may work on the batch, and how much of it one worker may do."""
    from trefpunt.accounts.services import languages_parse

    out: dict[str, Any] = {
        name: _fraction(errors, name, values.get(name))
        for name in ("min_approval_rate", "min_gold_accuracy")
    }
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
            limits.ANSWERS_PER_WORKER_MAX,
            _("Leave empty for no limit, or allow at least one answer per worker."),
        )
    )
    return out


def _quality_clean(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """How answers are combined, when an item has enough, and the test questions."""
    method = values.get("aggregation_method") or Batch.Method.DS
    if method not in Batch.Method.values:
        errors["aggregation_method"] = _("Choose mv, wmv, ds or ods.")
    target = values.get("confidence_target", limits.DEFAULT_CONFIDENCE_TARGET)
    if (
        isinstance(target, bool)
        or not isinstance(target, int | float)
        or not limits.CONFIDENCE_TARGET_MIN <= target <= limits.CONFIDENCE_TARGET_MAX
    ):
        errors["confidence_target"] = _("The confidence target is between %(min)s and %(max)s.") % {
            "min": f"{limits.CONFIDENCE_TARGET_MIN:g}",
            "max": f"{limits.CONFIDENCE_TARGET_MAX:g}",
        }
    gold_rate = _fraction(errors, "gold_rate", values.get("gold_rate", limits.DEFAULT_GOLD_RATE))
    return {
        "aggregation_method": method,
        "confidence_target": target,
        "gold_rate": limits.DEFAULT_GOLD_RATE if gold_rate is None else gold_rate,
        "gold_feedback": bool(values.get("gold_feedback", False)),
    }


def _batch_fields_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validate every field of a batch definition at once; ``ValidationFailed`` names each."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for part in (_texts_clean, _pay_clean, _scheduling_clean, _workers_clean, _quality_clean):
        out.update(part(values, errors))
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
