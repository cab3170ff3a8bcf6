from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ContestsConfig(AppConfig):
    name = "trefpunt.contests"
    label = "contests"
    verbose_name = _("Contests")

    def ready(self) -> None:
        from trefpunt.core.templatetags.core import NAV_LINKS

        if not any(name == "contests:list" for name, _label in NAV_LINKS):
            NAV_LINKS.append(("contests:list", lambda: gettext("Contests")))

        from trefpunt.ledger.references import reference_register

        from .selectors import contest_reference_labels

        reference_register("contest", contest_reference_labels)

        from .notifications import register

        register()
