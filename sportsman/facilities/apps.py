from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "sportsman.facilities"
    label = "facilities"
