from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MicrotasksConfig(AppConfig):
    name = "trefpunt.microtasks"
    label = "microtasks"
    verbose_name = _("Microtasks")
