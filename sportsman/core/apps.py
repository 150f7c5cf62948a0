from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sportsman.core"
    label = "core"

    def ready(self) -> None:
        from sportsman.core import wording  # noqa: F401  (its signal drops the cached word list)
