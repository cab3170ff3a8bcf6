from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class IdeasConfig(AppConfig):
    name = "trefpunt.ideas"
    label = "ideas"
    verbose_name = _("Idea calls")

    def ready(self) -> None:
        from trefpunt.core.templatetags.core import NAV_LINKS

        if not any(name == "ideas:list" for name, _label in NAV_LINKS):
            NAV_LINKS.append(("ideas:list", lambda: gettext("Idea calls")))

        from trefpunt.ledger.references import reference_register

        from . import notifications, threads
        from .selectors import call_reference_labels

        reference_register("ideacall", call_reference_labels)
        notifications.register()
        threads.register()
