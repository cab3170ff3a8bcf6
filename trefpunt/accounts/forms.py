"""Forms parse input for the views; the services validate it and report errors per field.

Rules live in ``services.py`` so the web pages, the API and the commands all give the same
answer; the forms only add what a browser needs (labels, widgets, ``maxlength`` hints).
"""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Profile, Role

IMAGE_ACCEPT = "image/png,image/jpeg,image/webp,image/gif"


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form plus an optional display name, and an error on the email field
    when the address already has an account (instead of allauth's silent email)."""

    display_name = forms.CharField(
        label=_("Your name"),
        required=False,
        max_length=80,
        help_text=_("Shown on your public profile; you can change it later."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["display_name", "email", "password1", "password2"]

    def validate_unique_email(self, value: str) -> str:
        email: str = super().validate_unique_email(value)
        if getattr(self, "account_already_exists", False):
            self.account_already_exists = False
            raise forms.ValidationError(
                _(
                    "An account with this email address already exists. Log in, or reset your "
                    "password if you forgot it."
                )
            )
        return email


class ProfileForm(forms.Form):
    """Every profile field. Lengths, handle rules, language codes and the avatar are checked
    by ``profile_update``; the widgets only hint them to the browser."""

    display_name = forms.CharField(
        label=_("Display name"),
        widget=forms.TextInput(attrs={"maxlength": 80, "autocomplete": "name"}),
    )
    handle = forms.CharField(
        label=_("Handle"),
        help_text=_("Your public address: /@handle. 3–30 lowercase letters, digits, '-' or '_'."),
        widget=forms.TextInput(
            attrs={"maxlength": 30, "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    headline = forms.CharField(
        label=_("Headline"),
        required=False,
        help_text=_("One line about what you do, e.g. “Illustrator and type designer”."),
        widget=forms.TextInput(attrs={"maxlength": 140}),
    )
    location = forms.CharField(
        label=_("Location"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 80, "placeholder": _("e.g. Utrecht, NL")}),
    )
    languages = forms.CharField(
        label=_("Languages"),
        required=False,
        help_text=_("Two-letter codes separated by commas, e.g. nl, en, de."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    skills = forms.CharField(
        label=_("Skills"),
        required=False,
        help_text=_("Separated by commas, at most 20, e.g. logo design, copywriting."),
    )
    bio = forms.CharField(
        label=_("Bio"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 4000}),
    )
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=_("PNG, JPEG, WebP or GIF, at most 5 MB; cropped to a square."),
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )

    @classmethod
    def initial_for(cls, profile: Profile) -> dict[str, Any]:
        return {
            "display_name": profile.display_name,
            "handle": profile.handle,
            "headline": profile.headline,
            "location": profile.location,
            "languages": ", ".join(profile.languages or []),
            "skills": ", ".join(skill.name for skill in profile.skills.all()),
            "bio": profile.bio,
        }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": IMAGE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class PortfolioItemForm(forms.Form):
    title = forms.CharField(label=_("Title"), widget=forms.TextInput(attrs={"maxlength": 120}))
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 4000}),
    )
    images = MultipleFileField(
        label=_("Images"),
        required=False,
        help_text=_("Up to 8 images (PNG, JPEG, WebP or GIF)."),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        help_text=_("What the token is for, e.g. “laptop script” or “CI upload”."),
        widget=forms.TextInput(attrs={"maxlength": 60}),
    )


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), widget=forms.TextInput(attrs={"maxlength": 120}))
    slug = forms.CharField(
        label=_("Address"),
        required=False,
        help_text=_(
            "The organisation's page is /orgs/address/. Leave empty to derive it from the name."
        ),
        widget=forms.TextInput(
            attrs={"maxlength": 60, "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    website = forms.CharField(
        label=_("Website"),
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 4000}),
    )


class InviteForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.MEMBER,
        help_text=_("Admins can invite and remove members and spend from the wallet."),
    )

    def __init__(self, *args: Any, allow_owner: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not allow_owner:
            # Only owners invite owners; the service enforces it, the form does not offer it.
            field = self.fields["role"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(v, label) for v, label in Role.choices if v != Role.OWNER]
