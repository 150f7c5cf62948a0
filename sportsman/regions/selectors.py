"""Reading the region tree: subtrees, ancestors, look-up by code.

A subtree is a prefix match on the materialised path ("/1/7/93/"), one indexed range scan
whatever the depth. Django's ``startswith`` compiles to ``LIKE ... ESCAPE`` on SQLite, which
SQLite never answers from an index, so there the prefix becomes the equivalent range
``path >= '/1/7/' AND path < '/1/70'`` (paths hold only digits and "/", compared bytewise).
PostgreSQL keeps ``LIKE 'prefix%'``, served by the pattern-ops index of migration 0002 whatever
the database collation. These selectors read the whole tree; region-scoped reads of an actor go
through ``sportsman.regions.access``.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet

from sportsman.regions.models import Region, path_upper_bound, subtree_q

__all__ = ["ancestors", "children", "find_by_code", "path_upper_bound", "subtree", "subtree_q"]


def subtree(region: Region, *, include_self: bool = True) -> QuerySet[Region]:
    """The region and every region below it (one indexed range query)."""
    qs = Region.objects.filter(subtree_q(region.path))
    return qs if include_self else qs.exclude(pk=region.pk)


def ancestors(region: Region) -> QuerySet[Region]:
    """The regions above ``region``, root first (primary-key look-ups from its path)."""
    return Region.objects.filter(pk__in=region.ancestor_ids).order_by("path")


def find_by_code(code: str, *, edition: int | None = None) -> Region | None:
    """The region with this statistical code (2/4/6/9/12 digits); the newest edition unless
    ``edition`` is given."""
    from sportsman.regions.services import normalise_code

    qs = Region.objects.filter(code=normalise_code(code))
    if edition is not None:
        qs = qs.filter(edition=edition)
    return qs.order_by("-edition").first()


def children(region: Region) -> QuerySet[Region]:
    return Region.objects.filter(parent=region).order_by("code")


def nearest_rule[M: Model](rules: QuerySet[M], region: Region | None) -> M | None:
    """The row of ``rules`` (a model with a ``region`` key) set on ``region`` or on the nearest
    region above it: how a region's setting is inherited down the tree. One query."""
    if region is None:
        return None
    ids = [*region.ancestor_ids, region.pk]
    by_region = {r.region_id: r for r in rules.filter(region_id__in=ids)}  # type: ignore[attr-defined]
    return next((by_region[i] for i in reversed(ids) if i in by_region), None)
