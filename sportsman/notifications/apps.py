from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "sportsman.notifications"
    label = "notifications"
