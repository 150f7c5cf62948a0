"""Builders for group tests."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone

from sportsman.groups import services
from sportsman.groups.models import Group, GroupActivity


def resident(tree: Any, region: Any = None, **extra: Any) -> Any:
    return tree.user(home_community=region or tree.k2, **extra)


def make_group(tree: Any, *, region: Any = None, leader: Any = None, members: int = 0,
               name: str = "长纤塘健步走", sport: str = "square-dance", policy: str = "open",
               **extra: Any) -> Group:
    from sportsman.core.models import Sport

    # transaction tests flush the catalogue the migrations seed
    Sport.objects.get_or_create(slug=sport, defaults={"name_zh": sport, "name_en": sport,
                                                      "family": "other"})
    leader = leader or resident(tree, region, nickname="队长")
    group = services.create_group(actor=leader, name=name, sport=sport, join_policy="open",
                                  **extra)
    for _ in range(members):
        services.join(actor=resident(tree, region), group_id=group.pk)
    if policy != "open":
        Group.objects.filter(pk=group.pk).update(join_policy=policy)
    group.refresh_from_db()
    return group


def member(tree: Any, group: Group, **extra: Any) -> Any:
    user = resident(tree, **extra)
    services.join(actor=user, group_id=group.pk, invite_code=group.invite_code)
    return user


def leader_of(group: Group) -> Any:
    return group.memberships.get(role="leader").user


def make_activity(group: Group, *, capacity: int = 10, waitlist: bool = True,
                  starts_in: dt.timedelta = dt.timedelta(days=2), **extra: Any) -> GroupActivity:
    from sportsman.groups import activities

    start = timezone.now() + starts_in
    return activities.create(actor=leader_of(group), group_id=group.pk, title="周末健步走",
                             starts_at=start, ends_at=start + dt.timedelta(hours=2),
                             capacity=capacity, waitlist=waitlist, place="南湖边", **extra)


def png_bytes(size: tuple[int, int] = (40, 30), exif: bool = False) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif:
        data = image.getexif()
        data[0x010F] = "CameraMaker"
        image.save(out, "JPEG", exif=data.tobytes())
    else:
        image.save(out, "PNG")
    return out.getvalue()
