from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "trefpunt.core"
    label = "core"
