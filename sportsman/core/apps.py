from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sportsman.core"
    label = "core"
