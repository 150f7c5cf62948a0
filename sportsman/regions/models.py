"""The region tree (city → district → town → community, optionally a province above) and the
role assignments that give staff power over a region's subtree.

Subtree queries use a materialised path of ids ("/1/7/93/"): a prefix match on an indexed
column, cheap at 100,000 regions. Nothing outside ``sportsman.regions.access`` reads
``RoleAssignment``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    DISTRICT = "district", _("district/county")
    TOWN = "town", _("town/street")
    COMMUNITY = "community", _("community/village")


LEVEL_DEPTH = {Level.PROVINCE: 0, Level.CITY: 1, Level.DISTRICT: 2, Level.TOWN: 3,
               Level.COMMUNITY: 4}


def path_upper_bound(path: str) -> str:
    """The smallest string above every path that starts with ``path``."""
    return path[:-1] + chr(ord(path[-1]) + 1)


def subtree_q(path: str, field: str = "") -> models.Q:
    """Rows whose region lies in the subtree at ``path``; ``field`` names the Region foreign key
    ("" for Region rows themselves). The one way to write a subtree filter.

    SQLite answers Django's ``startswith`` (``LIKE ... ESCAPE``) with a full scan, so there the
    prefix becomes the equivalent byte range (paths hold only digits and "/"). PostgreSQL keeps
    ``LIKE 'prefix%'``, served by the pattern-ops index whatever the collation (ADR 0002).
    """
    column = f"{field}__path" if field else "path"
    if connection.vendor == "sqlite":
        return models.Q(**{f"{column}__gte": path, f"{column}__lt": path_upper_bound(path)})
    return models.Q(**{f"{column}__startswith": path})


class Region(models.Model):
    code = models.CharField(_("statistical code"), max_length=12)
    edition = models.PositiveSmallIntegerField(_("code edition year"))
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    path = models.CharField(max_length=255, db_index=True, editable=False)
    management_zone = models.CharField(_("management zone"), max_length=64, blank=True)
    kind_note = models.CharField(max_length=16, blank=True)  # 街道 / 镇 / 乡 / 社区 / 村
    urban_rural_class = models.CharField(max_length=3, blank=True)
    is_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "edition"], name="region_code_edition"),
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{12}$"),
                                   name="region_code_12_digits"),
        ]
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def contains(self, other: Region) -> bool:
        return other.path.startswith(self.path)

    def ancestors(self) -> models.QuerySet[Region]:
        return Region.objects.filter(id__in=self.ancestor_ids).order_by("path")

    def subtree(self) -> models.QuerySet[Region]:
        return Region.objects.filter(subtree_q(self.path))


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("city administrator")
    DISTRICT_ADMIN = "district_admin", _("district administrator")
    TOWN_ADMIN = "town_admin", _("town administrator")
    COMMUNITY_ADMIN = "community_admin", _("community administrator")
    VENUE_MANAGER = "venue_manager", _("venue manager")
    ASSOCIATION_ADMIN = "association_admin", _("association administrator")
    INSTRUCTOR = "instructor", _("social sports instructor")
    EVALUATOR = "evaluator", _("third-party evaluator")
    MERCHANT = "merchant", _("merchant")
    VOLUNTEER_LEADER = "volunteer_leader", _("volunteer leader")


# An administrator role sits on a region of its own level.
ADMIN_ROLE_LEVEL = {
    Role.CITY_ADMIN: Level.CITY,
    Role.DISTRICT_ADMIN: Level.DISTRICT,
    Role.TOWN_ADMIN: Level.TOWN,
    Role.COMMUNITY_ADMIN: Level.COMMUNITY,
}


class RoleAssignment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="role_assignments")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "region"],
                                               name="role_assignment_once")]

    def __str__(self) -> str:
        return f"{self.role}@{self.region_id}"
