from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sportsman.accounts"
    label = "accounts"
