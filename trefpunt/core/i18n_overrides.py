"""Django strings whose Dutch Trefpunt words itself.

Django's own Dutch addresses people with "u"; Trefpunt says "je" everywhere (see the
glossary at the top of locale/nl/LC_MESSAGES/django.po). Listing the msgids here makes
``makemessages`` keep them in our catalogue, and LOCALE_PATHS is searched before Django's
own catalogues, so our wording wins. Nothing needs to import this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

PASSWORD_HELP_TEXTS = [
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
]
