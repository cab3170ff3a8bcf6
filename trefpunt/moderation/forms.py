from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Reason, Report
from .registry import reportables
from .services import REASON_MAX, SUSPEND_DAYS_MAX


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong?"),
        choices=[(value, label) for value, label in Reason.choices if value != Reason.HELD],
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=_("Details (optional; needed for “Something else”)"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the person concerned reads it)"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SuspendForm(ReasonForm):
    days = forms.IntegerField(
        label=_("Days (empty: until lifted)"),
        required=False,
        min_value=1,
        max_value=SUSPEND_DAYS_MAX,
    )


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Why should staff look again?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            (Report.Status.OPEN, _("Open reports")),
            (Report.Status.RESOLVED, _("Resolved reports")),
            ("appeals", _("Appeals")),
        ],
    )
    kind = forms.ChoiceField(label=_("What"), required=False)
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Any reason")), *Reason.choices]
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Everything"))] + [  # type: ignore[attr-defined]
            (r.kind, r.label) for r in reportables()
        ]


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[
            ("", _("Any action")),
            ("dismiss", _("Dismiss")),
            ("hide", _("Hide")),
            ("take_down", _("Take down")),
            ("appeal_uphold", _("Appeal rejected")),
            ("appeal_overturn", _("Appeal accepted")),
            ("warn", _("Warn")),
            ("suspend", _("Suspend")),
            ("ban", _("Ban")),
            ("reinstate", _("Reinstate")),
        ],
    )
