from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "trefpunt.moderation"
    label = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from . import notifications
        from .registry import reportables_discover

        notifications.register()
        # Each app says what of its own can be reported in its ``moderation.py``.
        reportables_discover()
