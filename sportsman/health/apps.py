from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "sportsman.health"
    label = "health"
    verbose_name = "Health services"

    def ready(self) -> None:
        from sportsman.health.selectors import clinics_staffed_by
        from sportsman.regions.access import Perm, register_object_grants

        # A clinic's staff hold CLINIC_PRACTISE on that clinic only (docs/health.md).
        register_object_grants(Perm.CLINIC_PRACTISE, clinics_staffed_by)
