"""``trefpunt createuser --email … --password … [--name …] [--staff] [--token]``.

Creates a verified user with a profile. With ``--token`` it also creates a personal access
token and prints only the token on stdout, so a script can capture it::

    TOKEN=$(trefpunt createuser --email ci@example.org --password … --token)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from trefpunt.accounts.services import api_token_create, user_create
from trefpunt.core.exceptions import ValidationFailed

# The command's option for each field a service may complain about.
OPTION_FOR_FIELD = {
    "email": "--email",
    "password": "--password",
    "display_name": "--name",
    "handle": "--handle",
    "name": "--token",
}


class Command(BaseCommand):
    help = "Create a verified user with a profile; optionally print a new API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="login email address")
        parser.add_argument("--password", required=True, help="password (validated)")
        parser.add_argument("--name", default="", help="display name (default: from the email)")
        parser.add_argument("--handle", default="", help="profile handle (default: from the name)")
        parser.add_argument("--staff", action="store_true", help="make the user staff (admin)")
        parser.add_argument(
            "--token",
            action="store_true",
            help="create a personal access token and print only the token",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # One transaction: a user is never created without the token that was asked for.
            with transaction.atomic():
                user = user_create(
                    email=options["email"],
                    password=options["password"],
                    display_name=options["name"],
                    handle=options["handle"],
                    is_staff=options["staff"],
                )
                raw = ""
                if options["token"]:
                    _token, raw = api_token_create(user=user, name="createuser")
        except ValidationFailed as exc:
            problems = [
                f"{OPTION_FOR_FIELD.get(field, field)}: {message}"
                for field, messages in exc.fields.items()
                for message in messages
            ] or [exc.message]
            raise CommandError("Nothing was created. " + " ".join(problems)) from None
        summary = f"Created {'staff user' if user.is_staff else 'user'} {user.email} "
        summary += f"(@{user.profile.handle})."
        if raw:
            self.stderr.write(summary + " Its API token follows on stdout.")
            self.stdout.write(raw)
        else:
            self.stdout.write(self.style.SUCCESS(summary))
