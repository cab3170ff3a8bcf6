from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommunityConfig(AppConfig):
    name = "trefpunt.community"
    label = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        from django.apps import apps

        from .sites import site_sync

        # After sites' own post_migrate (which creates "example.com"), once per migrate.
        post_migrate.connect(site_sync, sender=apps.get_app_config("sites"))
