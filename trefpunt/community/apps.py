from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "trefpunt.community"
    label = "community"
    verbose_name = _("Community")

    def ready(self) -> None:
        from django.apps import apps

        from .notifications import NotificationKind, notification_kinds_register
        from .sites import site_sync

        # After sites' own post_migrate (which creates "example.com"), once per migrate.
        post_migrate.connect(site_sync, sender=apps.get_app_config("sites"))
        notification_kinds_register(
            NotificationKind("community.message", "community/email/message.txt", _("New messages")),
        )
