from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "sportsman.events"
    label = "events"
