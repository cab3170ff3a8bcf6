"""Forms of the microtask pages. They only parse input (euros → cents, percentages →
shares, minutes → seconds); the services check the rules, and their errors are put next to
the fields."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.forms import validate_storable_json
from trefpunt.core.money import parse_amount

from . import limits
from .models import Batch

EXAMPLE_FORM = [
    {
        "name": "sentiment",
        "label": "What is the sentiment of this review?",
        "type": "single",
        "choices": [
            {"value": "positive", "label": "Positive"},
            {"value": "neutral", "label": "Neutral"},
            {"value": "negative", "label": "Negative"},
        ],
    }
]
EXAMPLE_DISPLAY = [{"column": "text", "widget": "text", "label": "Review"}]


def _page_size_error() -> str:
    return gettext("Enter a whole number of items per page from 1 to %(n)d.") % {
        "n": limits.PAGE_SIZE_MAX
    }


PAGE_SIZE_ERROR = lazy(_page_size_error, str)()

# Service field names that the page shows under another name.
FIELD_ALIASES = {"lease_seconds": "lease_minutes"}


def _pretty(value: Any) -> str:
    """One entry per line: short enough to read, still plain JSON."""
    if not isinstance(value, list) or not value:
        return json.dumps(value, ensure_ascii=False)
    lines = ",\n".join("  " + json.dumps(entry, ensure_ascii=False) for entry in value)
    return f"[\n{lines}\n]"


class BatchForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=limits.TITLE_MAX_LENGTH)
    instructions = forms.CharField(
        label=_("Instructions"),
        required=False,
        max_length=limits.INSTRUCTIONS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What workers should do, with examples. Markdown: **bold**, lists, links."),
    )
    display = forms.CharField(
        label=_("How an item is shown"),
        validators=[validate_storable_json],
        widget=forms.Textarea(attrs={"rows": 5, "class": "mt-code", "spellcheck": "false"}),
        help_text=_(
            'JSON list of the item columns to show: {"column": "text", "widget": "text"}. '
            "Widgets: text, image (an http(s) URL), link. Every column you show must be in "
            "the uploaded file."
        ),
    )
    form = forms.CharField(
        label=_("Answer form"),
        validators=[validate_storable_json],
        widget=forms.Textarea(attrs={"rows": 12, "class": "mt-code", "spellcheck": "false"}),
        help_text=_(
            'JSON list of fields. Each has a "name", a "label" and a "type": single or '
            'multiple (with "choices"), text (with "max_length"), number (with "min", "max", '
            '"integer"). Fields are required unless "required": false.'
        ),
    )
    reward = forms.CharField(
        label=_("Reward per answer (€)"),
        max_length=12,
        help_text=_("Paid for every approved answer."),
    )
    estimated_seconds = forms.IntegerField(
        label=_("Estimated seconds per task"),
        min_value=limits.ESTIMATED_SECONDS_MIN,
        max_value=limits.ESTIMATED_SECONDS_MAX,
        initial=limits.DEFAULT_ESTIMATED_SECONDS,
        help_text=_("Your estimate; the effective hourly pay must reach the platform minimum."),
    )
    min_answers = forms.IntegerField(
        label=_("Answers per item (minimum)"),
        initial=limits.DEFAULT_ANSWERS_PER_ITEM,
        min_value=1,
        max_value=limits.ANSWERS_PER_ITEM_MAX,
    )
    max_answers = forms.IntegerField(
        label=_("Answers per item (maximum)"),
        initial=limits.DEFAULT_ANSWERS_PER_ITEM,
        min_value=1,
        max_value=limits.ANSWERS_PER_ITEM_MAX,
        help_text=_("Uncertain items may get more answers, up to this number. Funded in full."),
    )
    lease_minutes = forms.IntegerField(
        label=_("Time limit per item (minutes)"),
        initial=limits.DEFAULT_LEASE_SECONDS // 60,
        min_value=limits.LEASE_SECONDS_MIN // 60,
        max_value=limits.LEASE_SECONDS_MAX // 60,
        help_text=_("How long a worker holds an item before it goes back to the pool."),
    )
    strategy = forms.ChoiceField(
        label=_("Order of items"), choices=Batch.Strategy.choices, initial=Batch.Strategy.DEPTH
    )
    page_size = forms.IntegerField(
        label=_("Items per page"),
        required=False,
        initial=limits.DEFAULT_PAGE_SIZE,
        min_value=1,
        max_value=limits.PAGE_SIZE_MAX,
        help_text=_(
            "How many items a worker gets at once and answers with one submit. More items "
            "per page means less waiting between items; 1 shows one item at a time."
        ),
        error_messages={
            "min_value": PAGE_SIZE_ERROR,
            "max_value": PAGE_SIZE_ERROR,
            "invalid": PAGE_SIZE_ERROR,
        },
    )
    min_approval_rate = forms.IntegerField(
        label=_("Minimum approval rate (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Leave empty to let everyone in. New workers always qualify."),
    )
    min_gold_accuracy = forms.IntegerField(
        label=_("Minimum accuracy on test questions (%)"),
        required=False,
        min_value=0,
        max_value=100,
    )
    languages = forms.CharField(
        label=_("Languages workers must speak"),
        required=False,
        max_length=100,
        help_text=_("Two-letter codes from the worker's profile, e.g. nl, en."),
    )
    max_answers_per_worker = forms.IntegerField(
        label=_("Answers per worker (limit)"),
        required=False,
        min_value=1,
        max_value=limits.ANSWERS_PER_WORKER_MAX,
    )
    aggregation_method = forms.ChoiceField(
        label=_("How answers are combined"),
        choices=Batch.Method.choices,
        initial=Batch.Method.DS,
        help_text=_(
            "Dawid-Skene learns how reliable each worker is (and how they err) and weighs "
            "their answers accordingly; it is the best choice for most batches. Majority "
            "vote counts every answer the same."
        ),
    )
    confidence_target = forms.DecimalField(
        label=_("Confidence target (%)"),
        required=False,
        min_value=round(limits.CONFIDENCE_TARGET_MIN * 100),
        max_value=round(limits.CONFIDENCE_TARGET_MAX * 100),
        decimal_places=1,
        initial=round(limits.DEFAULT_CONFIDENCE_TARGET * 100),
        help_text=_(
            "An item stops getting answers once, after the minimum answers, the combined "
            "answer is this likely to be right; otherwise it gets more answers, up to the "
            "maximum. Higher targets cost more answers and miss fewer errors. The model's "
            "probabilities tend to be optimistic on real crowds: at 95 % expect a few "
            "points below asking every item the maximum; 99.9 % came within about a "
            "quarter point while saving about half of the answers in our tests."
        ),
    )
    gold_rate = forms.IntegerField(
        label=_("Share of test questions (%)"),
        required=False,
        min_value=0,
        max_value=100,
        initial=round(limits.DEFAULT_GOLD_RATE * 100),
        help_text=_(
            "How often a worker gets one of your test questions (items uploaded with a known "
            "answer). Workers cannot tell them apart; they are paid like any other answer."
        ),
    )
    gold_feedback = forms.BooleanField(
        label=_("Tell workers the expected answer after a test question"),
        required=False,
        help_text=_("Helps workers learn your rules; it also tells them which items were tests."),
    )
    post_as = forms.ChoiceField(label=_("Pay from"), required=False, choices=[])

    def __init__(self, *args: Any, organisations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Your own wallet"))] + [(o.slug, o.name) for o in organisations]
        post_as = self.fields["post_as"]
        assert isinstance(post_as, forms.ChoiceField)
        post_as.choices = choices
        if len(choices) == 1:
            del self.fields["post_as"]
        if not self.is_bound and not self.initial.get("form"):
            self.initial.setdefault("form", _pretty(EXAMPLE_FORM))
            self.initial.setdefault("display", _pretty(EXAMPLE_DISPLAY))

    @classmethod
    def initial_from(cls, batch: Batch) -> dict[str, Any]:
        return {
            "title": batch.title,
            "instructions": batch.instructions,
            "display": _pretty(batch.display),
            "form": _pretty(batch.form),
            "reward": f"{batch.reward / 100:.2f}",
            "estimated_seconds": batch.estimated_seconds,
            "min_answers": batch.min_answers,
            "max_answers": batch.max_answers,
            "lease_minutes": batch.lease_seconds // 60,
            "strategy": batch.strategy,
            "page_size": batch.page_size,
            "min_approval_rate": (
                None if batch.min_approval_rate is None else round(batch.min_approval_rate * 100)
            ),
            "min_gold_accuracy": (
                None if batch.min_gold_accuracy is None else round(batch.min_gold_accuracy * 100)
            ),
            "languages": ", ".join(batch.languages or []),
            "max_answers_per_worker": batch.max_answers_per_worker,
            "aggregation_method": batch.aggregation_method,
            "confidence_target": round(batch.confidence_target * 100, 1),
            "gold_rate": round(batch.gold_rate * 100),
            "gold_feedback": batch.gold_feedback,
            "post_as": batch.organisation.slug if batch.organisation else "",
        }

    def service_values(self) -> dict[str, Any] | None:
        """The keyword arguments for ``batch_create``/``batch_update``, or ``None`` when a
        value could not even be parsed (the error is then on the form)."""
        data = self.cleaned_data
        try:
            reward = parse_amount(data["reward"], field="reward")
        except ValidationFailed as exc:
            self.add_error("reward", exc.fields["reward"][0])
            return None

        def share(name: str) -> float | None:
            value = data.get(name)
            return None if value is None else value / 100

        return {
            "title": data["title"],
            "instructions": data.get("instructions", ""),
            "display": data["display"],
            "form": data["form"],
            "reward": reward,
            "estimated_seconds": data["estimated_seconds"],
            "min_answers": data["min_answers"],
            "max_answers": data["max_answers"],
            "lease_seconds": data["lease_minutes"] * 60,
            "strategy": data["strategy"],
            "page_size": data.get("page_size") or limits.DEFAULT_PAGE_SIZE,
            "min_approval_rate": share("min_approval_rate"),
            "min_gold_accuracy": share("min_gold_accuracy"),
            "languages": data.get("languages", ""),
            "max_answers_per_worker": data.get("max_answers_per_worker"),
            "aggregation_method": data["aggregation_method"],
            "confidence_target": (
                limits.DEFAULT_CONFIDENCE_TARGET
                if data.get("confidence_target") is None
                else float(data["confidence_target"]) / 100
            ),
            "gold_rate": (
                limits.DEFAULT_GOLD_RATE
                if data.get("gold_rate") is None
                else data["gold_rate"] / 100
            ),
            "gold_feedback": bool(data.get("gold_feedback")),
            "organisation_slug": data.get("post_as") or None,
        }


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Items file"),
        help_text=_(
            "CSV with a header row, or JSON Lines (one object per line). Test questions are "
            "items with a known answer: in CSV a column _gold.<field name> holding the "
            "expected answer (several choices separated by |), empty for ordinary items; in "
            'JSON Lines a "_gold" object, e.g. "_gold": {"sentiment": "positive"}. The '
            "expected answer must fit the answer form."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson,.json,.txt"}),
    )


class RewardForm(forms.Form):
    reward = forms.CharField(label=_("New reward per answer (€)"), max_length=12)

    def reward_cents(self) -> int | None:
        try:
            return parse_amount(self.cleaned_data["reward"], field="reward")
        except ValidationFailed as exc:
            self.add_error("reward", exc.fields["reward"][0])
            return None


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=limits.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The worker sees it and can appeal."),
    )


class AppealForm(forms.Form):
    message = forms.CharField(
        label=_("Why is your answer right?"),
        max_length=limits.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the worker"),
        required=False,
        max_length=limits.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def service_errors(exc: ValidationFailed) -> ValidationFailed:
    """The service error with field names as the page calls them."""
    if not exc.fields:
        return exc
    fields = {FIELD_ALIASES.get(name, name): messages for name, messages in exc.fields.items()}
    if "organisation" in fields:
        fields["post_as"] = fields.pop("organisation")
    return ValidationFailed(exc.message, fields=fields)
