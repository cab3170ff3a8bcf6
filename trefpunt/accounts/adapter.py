from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.http import HttpRequest

from .services import profile_create


class AccountAdapter(DefaultAccountAdapter):
    """Gives every signed-up user a profile in the same transaction as the user row."""

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                profile_create(user=user, display_name=form.cleaned_data.get("display_name", ""))
        return user
