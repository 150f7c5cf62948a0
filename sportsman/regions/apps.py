from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "sportsman.regions"
    label = "regions"
