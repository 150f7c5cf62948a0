from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "sportsman.governance"
    label = "governance"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from sportsman.governance.reports import forget_scopes
        from sportsman.regions.models import Region

        post_save.connect(forget_scopes, sender=Region, dispatch_uid="governance.scopes.save")
        post_delete.connect(forget_scopes, sender=Region, dispatch_uid="governance.scopes.del")
