"""Django strings whose Dutch Trefpunt words itself.

Django's own Dutch addresses people with "u"; Trefpunt says "je" everywhere (see the
glossary at the top of locale/nl/LC_MESSAGES/django.po). Listing the msgids here makes
``makemessages`` keep them in our catalogue, and LOCALE_PATHS is searched before Django's
own catalogues, so our wording wins. Nothing needs to import this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

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

# allauth's words, in Trefpunt's terms (docs/glossary.md): "inloggen" for log in (allauth's
# Dutch "Aanmelden" also reads as "sign up"), "bevestigingsmail" in one word, and sentence case
# in English (locale/en/LC_MESSAGES/django.po).
ALLAUTH_WORDING = [
    gettext_noop("Sign In"),
    gettext_noop("Sign Out"),
    gettext_noop("Sign Up"),
    gettext_noop("Remember Me"),
    gettext_noop("Confirmation email sent to %(email)s."),
]

# Short dates are written "j N Y" (12 dec. 2026): Dutch abbreviates months with a full stop,
# lower case; English keeps "12 Dec 2026" (see locale/en/LC_MESSAGES/django.po).
MONTHS_SHORT = [
    pgettext_lazy("abbrev. month", "Jan."),
    pgettext_lazy("abbrev. month", "Feb."),
    pgettext_lazy("abbrev. month", "March"),
    pgettext_lazy("abbrev. month", "April"),
    pgettext_lazy("abbrev. month", "May"),
    pgettext_lazy("abbrev. month", "June"),
    pgettext_lazy("abbrev. month", "July"),
    pgettext_lazy("abbrev. month", "Aug."),
    pgettext_lazy("abbrev. month", "Sept."),
    pgettext_lazy("abbrev. month", "Oct."),
    pgettext_lazy("abbrev. month", "Nov."),
    pgettext_lazy("abbrev. month", "Dec."),
]
