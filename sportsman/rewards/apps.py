from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "sportsman.rewards"
    label = "rewards"
