from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "trefpunt.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from .references import deposit_labels, reference_register

        reference_register("deposit", deposit_labels)
