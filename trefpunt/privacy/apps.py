from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "trefpunt.privacy"
    label = "privacy"
    verbose_name = _("Privacy rights")

    def ready(self) -> None:
        from . import catalogue  # noqa: F401 - registers the platform's personal data
