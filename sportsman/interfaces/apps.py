from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    name = "sportsman.interfaces"
    label = "interfaces"
    verbose_name = "Open interfaces"
