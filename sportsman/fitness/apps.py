from django.apps import AppConfig


class FitnessConfig(AppConfig):
    name = "sportsman.fitness"
    label = "fitness"
    verbose_name = "Physical fitness tests"
