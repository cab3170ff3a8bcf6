"""Forms of the contest pages. They only parse input (amounts in euros → cents, dates);
the services validate the rules and their errors are put next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.money import parse_amount

from . import limits
from .models import Category, Contest
from .services import prize_amount_problem

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def files_help() -> str:
    return _("PNG, JPEG, WebP, PDF or ZIP; up to %(n)d files of at most %(mb)d MB each.") % {
        "n": limits.FILES_PER_VERSION_MAX,
        "mb": max(1, settings.MAX_UPLOAD_BYTES // (1024 * 1024)),
    }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One or more files; ``cleaned_data`` holds a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": ".png,.jpg,.jpeg,.webp,.pdf,.zip"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [d for d in data if d]
        return [data] if data else []


def _amount(form: forms.Form, name: str, *, required: bool) -> int | None:
    text = (form.cleaned_data.get(name) or "").strip()
    if not text:
        if required:
            form.add_error(name, _("Enter an amount."))
        return None
    negative = text.startswith("-")
    try:
        cents = parse_amount(text.lstrip("-"), field=name)
    except ValidationFailed as exc:
        form.add_error(name, exc.fields[name][0])
        return None
    return -cents if negative else cents


class ContestForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=limits.TITLE_MAX)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=limits.SUMMARY_MAX,
        help_text=_("One or two sentences shown in the contest list."),
    )
    description = forms.CharField(
        label=_("Brief"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "What you need, for whom, what to avoid. Markdown: **bold**, *italic*, lists, links."
        ),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    post_as = forms.ChoiceField(label=_("Post as"), required=False, choices=[])
    prize_1 = forms.CharField(label=_("First prize (€)"), max_length=20)
    prize_2 = forms.CharField(label=_("Second prize (€)"), max_length=20, required=False)
    prize_3 = forms.CharField(label=_("Third prize (€)"), max_length=20, required=False)
    finalist_stipend = forms.CharField(
        label=_("Finalist stipend (€)"),
        max_length=20,
        required=False,
        help_text=_("Paid to every finalist who does not win. Leave empty for none."),
    )
    finalists_max = forms.IntegerField(
        label=_("Finalists at most"),
        initial=limits.FINALISTS_DEFAULT,
        min_value=0,
        max_value=limits.FINALISTS_MAX,
    )
    entry_deadline = forms.DateTimeField(
        label=_("Entries close"),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )
    judging_days = forms.IntegerField(
        label=_("Days to judge"),
        initial=limits.JUDGING_DAYS_DEFAULT,
        min_value=limits.JUDGING_DAYS_MIN,
        max_value=limits.JUDGING_DAYS_MAX,
        help_text=_("If you have not awarded by then, the prizes are split (the guarantee)."),
    )
    visibility = forms.ChoiceField(
        label=_("Entry visibility"),
        choices=Contest.Visibility.choices,
        initial=Contest.Visibility.OPEN,
        widget=forms.RadioSelect,
    )
    max_entries_per_entrant = forms.IntegerField(
        label=_("Entries per entrant"),
        initial=limits.ENTRIES_PER_ENTRANT_DEFAULT,
        min_value=1,
        max_value=limits.ENTRIES_PER_ENTRANT_MAX,
    )
    is_private = forms.BooleanField(
        label=_("Private contest: only people I invite see the brief"), required=False
    )
    nda_text = forms.CharField(
        label=_("Non-disclosure agreement"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Private contests only: entrants must accept this text to enter."),
    )

    def __init__(self, *args: Any, organisations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entry_deadline"].help_text = _(
            "Date and time in %(zone)s. At least an hour and at most %(n)d days from now."
        ) % {"zone": timezone.get_current_timezone_name(), "n": limits.DEADLINE_MAX_DAYS}
        self.organisations = {o.slug: o for o in organisations}
        choices = [("", _("Myself"))] + [(o.slug, o.name) for o in organisations]
        self.fields["post_as"].choices = choices  # type: ignore[attr-defined]
        if len(choices) == 1:
            self.fields["post_as"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        prizes = []
        for n in range(1, limits.PRIZES_MAX + 1):
            amount = _amount(self, f"prize_{n}", required=n == 1)
            if amount is None:
                continue
            problem = prize_amount_problem(n, amount)
            if problem:
                self.add_error(f"prize_{n}", problem)
            else:
                prizes.append(amount)
        data["prizes"] = prizes
        data["finalist_stipend_cents"] = _amount(self, "finalist_stipend", required=False) or 0
        return data

    # Service error names that belong to a differently named form field.
    SERVICE_FIELD = {"organisation": "post_as", "prizes": "prize_1"}
    PRIZE_FIELDS = tuple(f"prize_{n}" for n in range(1, limits.PRIZES_MAX + 1))

    def service_fields(self) -> dict[str, Any]:
        """The draft fields for the service; after ``is_valid()`` failed, those the form
        could parse (``None`` for the others)."""
        data = self.cleaned_data
        return {
            "title": data.get("title"),
            "summary": data.get("summary"),
            "description": data.get("description", ""),
            "category": data.get("category"),
            "prizes": data.get("prizes", []),
            "finalist_stipend": data.get("finalist_stipend_cents", 0),
            "finalists_max": data.get("finalists_max"),
            "entry_deadline": data.get("entry_deadline"),
            "judging_days": data.get("judging_days"),
            "visibility": data.get("visibility"),
            "max_entries_per_entrant": data.get("max_entries_per_entrant"),
            "is_private": data.get("is_private", False),
            "nda_text": data.get("nda_text", ""),
            "organisation": self.organisations.get(data.get("post_as") or ""),
        }

    def service_errors_add(self, exc: ValidationFailed) -> None:
        """Add the service's errors to the fields that have no form error yet. While a prize
        field has a form error the prizes are not checked (their positions would shift)."""
        prize_broken = any(name in self.errors for name in self.PRIZE_FIELDS)
        for name, messages in exc.fields.items():
            target = self.SERVICE_FIELD.get(name, name)
            if prize_broken and target in self.PRIZE_FIELDS:
                continue
            if target in self.fields and target not in self.errors:
                for message in messages:
                    self.add_error(target, message)

    @classmethod
    def initial_for(cls, contest: Contest) -> dict[str, Any]:
        def euros(cents: int) -> str:
            return f"{cents // 100}" if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}"

        prizes = list(contest.prizes.all())
        initial: dict[str, Any] = {
            "title": contest.title,
            "summary": contest.summary,
            "description": contest.description,
            "category": contest.category,
            "post_as": contest.organisation.slug if contest.organisation else "",
            "finalist_stipend": euros(contest.finalist_stipend) if contest.finalist_stipend else "",
            "finalists_max": contest.finalists_max,
            "entry_deadline": contest.entry_deadline,
            "judging_days": contest.judging_days,
            "visibility": contest.visibility,
            "max_entries_per_entrant": contest.max_entries_per_entrant,
            "is_private": contest.is_private,
            "nda_text": contest.nda_text,
        }
        for prize in prizes:
            initial[f"prize_{prize.position}"] = euros(prize.amount)
        return initial


class EntryForm(forms.Form):
    # Not required here: the service checks every field at once and names each problem.
    title = forms.CharField(
        label=_("Title"),
        max_length=limits.ENTRY_TITLE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"required": True}),
    )
    description = forms.CharField(
        label=_("About your entry"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    files = MultipleFileField(  # type: ignore[assignment]
        label=_("Files"),
        required=False,
    )
    originality_declared = forms.BooleanField(
        label=_("This is my own original work and I have the right to submit it."),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = files_help()


class FilesForm(forms.Form):
    files = MultipleFileField(label=_("Files"), required=False)  # type: ignore[assignment]
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": limits.NOTE_MAX}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = files_help()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Where was it copied from?"),
        widget=forms.Textarea(attrs={"rows": 2, "minlength": limits.REASON_MIN}),
        max_length=limits.REASON_MAX,
        help_text=_("A link or a description; the client and our staff see it, the entrant not."),
    )


class InviteForm(forms.Form):
    who = forms.CharField(label=_("Handle or email address"), max_length=254)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Reference file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".png,.jpg,.jpeg,.webp,.pdf,.zip"}),
        error_messages={"required": _("Choose a file to upload.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PNG, JPEG, WebP, PDF or ZIP; at most %(mb)d MB.") % {
            "mb": max(1, settings.MAX_UPLOAD_BYTES // (1024 * 1024))
        }


class FinalistRoundForm(forms.Form):
    deadline = forms.DateTimeField(
        label=_("Finalists can revise until"),
        input_formats=[DATETIME_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )


class ContestFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100, widget=forms.SearchInput)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *Category.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any status")),
            (Contest.Status.OPEN, _("Open for entries")),
            (Contest.Status.JUDGING, _("Judging")),
            (Contest.Status.AWARDED, _("Awarded")),
            (Contest.Status.COMPLETED, _("Completed")),
        ],
    )
    prize_min = forms.IntegerField(label=_("Prizes from (€)"), required=False, min_value=0)
    prize_max = forms.IntegerField(label=_("Prizes up to (€)"), required=False, min_value=0)
    ends_soon = forms.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ends_soon"].label = ngettext(
            "Ends within %(n)d day", "Ends within %(n)d days", limits.ENDS_SOON_DAYS
        ) % {"n": limits.ENDS_SOON_DAYS}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("prize_min"), data.get("prize_max")
        if low is not None and high is not None and low > high:
            self.add_error("prize_max", _("Enter an amount of at least %(min)d.") % {"min": low})
        return data


class JudgeFilterForm(forms.Form):
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("All entries")),
            ("unrated", _("Unrated")),
            ("finalists", _("Finalists")),
            ("flagged", _("Flagged")),
            ("declined", _("Declined")),
        ],
    )
    rated_min = forms.TypedChoiceField(
        label=_("Rated at least"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", "—"),
            *[(str(n), "★" * n) for n in range(limits.RATING_MIN, limits.RATING_MAX + 1)],
        ],
    )


class NdaForm(forms.Form):
    accept = forms.BooleanField(label=_("I accept this non-disclosure agreement."))
