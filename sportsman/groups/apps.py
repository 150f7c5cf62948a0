from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "sportsman.groups"
    label = "groups"
