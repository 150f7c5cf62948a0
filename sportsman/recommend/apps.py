from django.apps import AppConfig


class RecommendConfig(AppConfig):
    name = "sportsman.recommend"
    label = "recommend"
