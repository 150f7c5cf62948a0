from django.apps import AppConfig


class CockpitConfig(AppConfig):
    name = "sportsman.cockpit"
    label = "cockpit"
    verbose_name = "cockpit"

    def ready(self) -> None:
        from sportsman.core import figures

        figures.autodiscover()
