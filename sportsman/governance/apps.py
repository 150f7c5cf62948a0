from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "sportsman.governance"
    label = "governance"
