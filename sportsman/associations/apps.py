from django.apps import AppConfig


class AssociationsConfig(AppConfig):
    name = "sportsman.associations"
    label = "associations"
