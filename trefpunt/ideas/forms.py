"""Forms of the idea-call pages. They only parse input (amounts in euros → cents, dates); the
services check the rules and their errors are put next to the fields. Text limits come from
the models (``limit``), defined there once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.money import parse_amount

from .models import Comment, Idea, IdeaCall, IdeaUpdate, Report, Stage, StageChange, limit
from .selectors import SORTS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
DATETIME_INPUTS = [DATETIME_FORMAT, "%Y-%m-%d %H:%M"]


def _datetime(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_INPUTS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )


def _text(model: Any, name: str, label: Any, *, rows: int = 0, **kwargs: Any) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return forms.CharField(label=label, max_length=limit(model, name), widget=widget, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".png,.jpg,.jpeg,.webp,.pdf,.zip"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [d for d in data if d]
        return [data] if data else []


class CallForm(forms.Form):
    title = _text(IdeaCall, "title", _("Title"))
    question = _text(
        IdeaCall,
        "question",
        _("Question"),
        help_text=_("The one question you ask, e.g. “How can we cut packaging waste?”"),
    )
    description = _text(
        IdeaCall,
        "description",
        _("Description"),
        rows=8,
        required=False,
        help_text=_(
            "Background, what you will do with the ideas. Markdown: **bold**, lists, links."
        ),
    )
    cover = forms.ImageField(label=_("Cover image"), required=False)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=800,
        help_text=_("Categories for the ideas, separated by commas."),
    )
    post_as = forms.ChoiceField(label=_("Post as"), required=False, choices=[])
    audience = forms.ChoiceField(
        label=_("Who can see the call"),
        choices=IdeaCall.Audience.choices,
        initial=IdeaCall.Audience.PUBLIC,
        widget=forms.RadioSelect,
    )
    submission_deadline = _datetime(_("Ideas until"))
    voting_deadline = _datetime(_("Votes until"))
    voting_mode = forms.ChoiceField(
        label=_("Voting"),
        choices=IdeaCall.VotingMode.choices,
        initial=IdeaCall.VotingMode.UP,
        widget=forms.RadioSelect,
    )
    budget_points = forms.IntegerField(
        label=_("Points per participant (budget voting)"), initial=10, min_value=1, max_value=1000
    )
    reward_amount = forms.CharField(
        label=_("Reward per selected idea (€)"),
        required=False,
        max_length=20,
        help_text=_("Held in escrow from publishing; unspent rewards come back when you close."),
    )
    reward_count = forms.IntegerField(
        label=_("Rewarded ideas at most"), initial=0, min_value=0, max_value=100, required=False
    )

    def __init__(self, *args: Any, organisations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["post_as"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Myself"))] + [(o.slug, o.name) for o in organisations]

    def clean_reward_amount(self) -> int:
        text = (self.cleaned_data.get("reward_amount") or "").strip()
        if not text:
            return 0
        try:
            return parse_amount(text, field="reward_amount")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.fields["reward_amount"][0]) from None

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data.get("title", ""),
            "question": data.get("question", ""),
            "description": data.get("description", ""),
            "tags": data.get("tags", ""),
            "organisation": data.get("post_as") or None,
            "audience": data.get("audience", ""),
            "submission_deadline": data.get("submission_deadline"),
            "voting_deadline": data.get("voting_deadline"),
            "voting_mode": data.get("voting_mode", ""),
            "budget_points": data.get("budget_points") or 10,
            "reward_amount": data.get("reward_amount") or 0,
            "reward_count": data.get("reward_count") or 0,
        }

    @staticmethod
    def initial_for(call: IdeaCall) -> dict[str, Any]:
        amount = call.reward_amount
        return {
            "title": call.title,
            "question": call.question,
            "description": call.description,
            "tags": ", ".join(t.name for t in call.tags.all()),
            "post_as": call.organisation.slug if call.organisation else "",
            "audience": call.audience,
            "submission_deadline": call.submission_deadline,
            "voting_deadline": call.voting_deadline,
            "voting_mode": call.voting_mode,
            "budget_points": call.budget_points,
            "reward_amount": f"{amount // 100}.{amount % 100:02d}" if amount else "",
            "reward_count": call.reward_count,
        }


class IdeaForm(forms.Form):
    title = _text(Idea, "title", _("Title"))
    description = _text(
        Idea,
        "description",
        _("Your idea"),
        rows=6,
        help_text=_("What, for whom, why it helps. Markdown: **bold**, lists, links."),
    )
    tags = forms.MultipleChoiceField(
        label=_("Tags"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    files = MultipleFileField(label=_("Attachments"), required=False)  # type: ignore[assignment]
    improves = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, tags: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tags"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(t.slug, t.name) for t in tags]
        if not tags:
            del self.fields["tags"]
        self.fields["files"].help_text = _(
            "Optional: sketches, photos or a PDF (PNG, JPEG, WebP, PDF or ZIP; "
            "at most %(mb)d MB each)."
        ) % {"mb": max(1, settings.MAX_UPLOAD_BYTES // (1024 * 1024))}


class IdeaEditForm(IdeaForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["files"]
        del self.fields["improves"]


class UpdateForm(forms.Form):
    text = _text(IdeaUpdate, "text", _("Update"), rows=3)


class VoteForm(forms.Form):
    points = forms.IntegerField(label=_("Points"), required=False, min_value=0, max_value=1000)


class StageMoveForm(forms.Form):
    stage = forms.TypedChoiceField(label=_("Move to stage"), coerce=int, choices=[])
    reason = _text(
        StageChange,
        "reason",
        _("Reason (the author and followers see it)"),
        rows=3,
    )

    def __init__(
        self, *args: Any, stages: Any = (), current: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["stage"]
        assert isinstance(field, forms.TypedChoiceField)
        # No stage is preselected: the first one may be the reward stage, and a reason
        # typed and sent without looking would pay the reward.
        field.choices = [("", _("Choose a stage"))] + [
            (s.pk, s.label) for s in stages if s.kind != Stage.Kind.NEW and s.pk != current
        ]


class MergeForm(forms.Form):
    into = forms.TypedChoiceField(label=_("Keep this idea"), coerce=int, choices=[])

    def __init__(self, *args: Any, ideas: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["into"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(i.pk, f"#{i.pk} {i.title}") for i in ideas]


class CommentForm(forms.Form):
    body = _text(Comment, "body", _("Comment"), rows=3)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReportForm(forms.Form):
    reason = _text(Report, "reason", _("What is wrong?"))
    comment = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CloseForm(forms.Form):
    reason = _text(
        IdeaCall,
        "close_reason",
        _("Reason for the ideas still waiting (they move to “not selected”)"),
        rows=3,
        required=False,
    )


class StageForm(forms.Form):
    name = _text(Stage, "name", _("Stage name"))
    kind = forms.ChoiceField(
        label=_("Meaning"),
        choices=[c for c in Stage.Kind.choices if c[0] != Stage.Kind.NEW],
        initial=Stage.Kind.ACTIVE,
    )
    stage = forms.IntegerField(required=False, widget=forms.HiddenInput)


class InviteForm(forms.Form):
    who = forms.CharField(label=_("Handle or email address"), max_length=254)


class CallFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100, widget=forms.SearchInput)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *[c for c in IdeaCall.Status.choices if c[0] != "draft"]],
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    organisation = forms.CharField(label=_("Organisation"), required=False, max_length=60)


class IdeaFilterForm(forms.Form):
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=list(
            zip(
                SORTS,
                [_("Most votes"), _("Newest"), _("Trending"), _("Most discussed")],
                strict=True,
            )
        ),
    )
    stage = forms.TypedChoiceField(
        label=_("Stage"), required=False, coerce=int, empty_value=None, choices=[]
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False, choices=[])

    def __init__(self, *args: Any, stages: Any = (), tags: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stage = self.fields["stage"]
        tag = self.fields["tag"]
        assert isinstance(stage, forms.TypedChoiceField) and isinstance(tag, forms.ChoiceField)
        stage.choices = [("", _("All stages")), *[(s.pk, s.label) for s in stages]]
        tag.choices = [("", _("All tags")), *[(t.slug, t.name) for t in tags]]
