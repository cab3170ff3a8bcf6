from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "trefpunt.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from .notifications import register

        register()
