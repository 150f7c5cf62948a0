from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "sportsman.activity"
    label = "activity"
