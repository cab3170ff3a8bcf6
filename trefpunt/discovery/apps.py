from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class DiscoveryConfig(AppConfig):
    name = "trefpunt.discovery"
    label = "discovery"
    verbose_name = _("Search and findability")

    def ready(self) -> None:
        from trefpunt.core.templatetags.core import NAV_LINKS

        for url_name, label in (
            ("discovery:search", lambda: gettext("Search")),
            ("discovery:people", lambda: gettext("People")),
        ):
            if not any(name == url_name for name, _label in NAV_LINKS):
                NAV_LINKS.append((url_name, label))

        from . import indexing, people

        # Each mode's ``<app>/search.py`` says how its public things index and how it adds to
        # a track record: ``register_search()`` and, optionally, ``register_track_record()``.
        autodiscover_modules("search")
        from django.apps import apps

        for config in apps.get_app_configs():
            module = getattr(config.module, "search", None)
            for hook in ("register_search", "register_track_record"):
                function = getattr(module, hook, None)
                if callable(function):
                    function()
        people.register_search()
        # ``<app>/start.py``: what each mode puts on the personal start page.
        autodiscover_modules("start")
        for config in apps.get_app_configs():
            register_start = getattr(getattr(config.module, "start", None), "register_start", None)
            if callable(register_start):
                register_start()
        indexing.connect()

        from trefpunt.privacy.registry import account_erased_register

        account_erased_register(indexing.index_forget)
