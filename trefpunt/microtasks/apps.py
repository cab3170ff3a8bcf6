from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MicrotasksConfig(AppConfig):
    name = "trefpunt.microtasks"
    label = "microtasks"
    verbose_name = _("Microtasks")

    def ready(self) -> None:
        from trefpunt.core.templatetags.core import NAV_LINKS

        entry = ("microtasks:batch_list", lambda: _("Microtasks"))
        if all(name != entry[0] for name, _label in NAV_LINKS):
            NAV_LINKS.append(entry)

        from trefpunt.ledger.references import reference_register

        from .selectors import batch_reference_labels

        reference_register("batch", batch_reference_labels)

        from . import notifications, threads

        notifications.register()
        threads.register()
