from django.apps import AppConfig


class InstructorsConfig(AppConfig):
    name = "sportsman.instructors"
    label = "instructors"
