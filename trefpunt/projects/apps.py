from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "trefpunt.projects"
    label = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        from trefpunt.core.templatetags.core import NAV_LINKS

        if not any(name == "projects:list" for name, _label in NAV_LINKS):
            NAV_LINKS.append(("projects:list", lambda: gettext("Projects")))

        from trefpunt.ledger.references import reference_register

        from . import notifications, privacy, threads
        from .selectors import milestone_reference_labels

        reference_register("milestone", milestone_reference_labels)
        notifications.register()
        threads.register()
        privacy.register()
