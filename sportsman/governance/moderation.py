"""Moderation of governance content, for every governance area to reuse.

- Writing: :func:`clean_text` (the city's sensitive-word list, via ``core.wording``) and
  :func:`refuse_too_fast` (rate limits counted from the rows already written, via
  ``core.throttle``) — call both before creating resident content.
- Kinds: an area registers each kind of content it lets residents write with :func:`register`
  (its model, which must derive from ``models.Moderated``, and how to find the item's region
  and author). Posts, post comments and topic comments are registered here.
- Flags: a resident flags an item once (:func:`flag`); the flag carries the item's region.
- The staff queue (:func:`queue`): open flags grouped by item, in the POST_MODERATE scope of the
  item's region. :func:`take_down` hides an item (reason, audit entry, its open flags resolved),
  :func:`restore` shows it again, :func:`dismiss` resolves the flags and leaves it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.core.throttle import Limit, refuse_over
from sportsman.core.wording import check_text
from sportsman.governance.models import (
    CommunityPost,
    ContentFlag,
    FlagStatus,
    PostComment,
    TopicComment,
)
from sportsman.regions.access import Perm, access_for_user
from sportsman.regions.models import Region

SLOW_DOWN = gettext_lazy("You are writing very fast. Please wait a moment.")
# Resident content of governance: per author, over all rows of one kind.
POST_LIMITS = (Limit(3, timedelta(minutes=1)), Limit(20, timedelta(days=1)))
COMMENT_LIMITS = (Limit(10, timedelta(minutes=1)), Limit(200, timedelta(days=1)))
FLAG_LIMITS = (Limit(30, timedelta(days=1)),)


class AlreadyFlagged(Conflict):
    code = "already_flagged"
    default_message = gettext_lazy("You have already flagged this.")


class UnknownKind(InvalidInput):
    code = "unknown_content_kind"
    default_message = gettext_lazy("Unknown kind of content.")


class ContentNotFound(NotFound):
    code = "content_not_found"
    default_message = gettext_lazy("No such content.")


class AlreadyHidden(Conflict):
    code = "already_hidden"
    default_message = gettext_lazy("This is already taken down.")


class NotHidden(Conflict):
    code = "not_hidden"
    default_message = gettext_lazy("This is not taken down.")


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.Model]
    region_field: str  # path to the item's Region FK ("region", "post__region")
    author_field: str = "author"
    text_field: str = "text"
    # a callback after a take-down or restore (counters), given the item and hidden=True/False
    on_change: Callable[[Any, bool], None] | None = None


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    found = KINDS.get(name)
    if found is None:
        raise UnknownKind(fields={"kind": [gettext_lazy("Unknown kind of content.")]})
    return found


# --- writing ----------------------------------------------------------------------------------


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = True) -> str:
    """Trimmed text, or ``invalid`` / ``sensitive_words`` (the words are not echoed)."""
    return check_text(value, field=field, max_length=max_length, required=required)


def refuse_too_fast(rows: QuerySet[Any], limits: tuple[Limit, ...], *,
                    time_field: str = "created_at") -> None:
    """``throttled`` (429 with Retry-After) when the author's ``rows`` already fill a limit.
    Call inside the writing transaction."""
    refuse_over(rows, time_field, limits, timezone.now(), SLOW_DOWN)


# --- flags ---------------------------------------------------------------------------------------


def _item(kind: Kind, target_id: int, *, lock: bool = False) -> Any:
    qs = kind.model._default_manager.select_related(kind.region_field)
    if lock:
        qs = qs.select_for_update(of=("self",))
    item = qs.filter(pk=target_id).first()
    if item is None:
        raise ContentNotFound()
    return item


def region_of(kind: Kind, item: Any) -> Region:
    value: Any = item
    for part in kind.region_field.split("__"):
        value = getattr(value, part)
    return value


def flag(*, actor: Any, kind: str, target_id: int, reason: str) -> ContentFlag:
    """A resident flags a visible item for its region's staff (once per person and item)."""
    spec = kind_of(kind)
    reason = clean_text(reason, field="reason", max_length=200)
    item = _item(spec, target_id)
    if item.hidden_at is not None or getattr(item, "deleted_at", None) is not None:
        raise ContentNotFound()
    try:
        with transaction.atomic():
            refuse_too_fast(ContentFlag.objects.filter(user_id=actor.pk), FLAG_LIMITS)
            return ContentFlag.objects.create(kind=spec.name, target_id=item.pk,
                                              region=region_of(spec, item), user=actor,
                                              reason=reason)
    except IntegrityError as exc:
        raise AlreadyFlagged() from exc


@dataclass
class QueueItem:
    kind: str
    target_id: int
    region: Region | None
    text: str
    author_id: int | None
    flags: int
    reasons: list[str]
    first_at: Any
    hidden: bool


def flags_in_scope(actor: Any) -> QuerySet[ContentFlag]:
    return access_for_user(actor).scope(ContentFlag.objects.all(), Perm.POST_MODERATE)


def queue(actor: Any, *, region: Region | None = None, limit: int = 50) -> list[QueueItem]:
    """Flagged items awaiting a decision in the actor's scope (optionally one region's
    subtree), oldest flag first. A fixed number of queries whatever the size."""
    from sportsman.regions.models import subtree_q

    qs = flags_in_scope(actor).filter(status=FlagStatus.OPEN)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    groups = list(qs.values("kind", "target_id", "region_id")
                  .annotate(n=Count("id"), first=Min("created_at"), last=Max("id"))
                  .order_by("first", "last")[:limit])
    regions = Region.objects.in_bulk({g["region_id"] for g in groups})
    reasons: dict[tuple[str, int], list[str]] = {}
    for k, t, r in (ContentFlag.objects.filter(status=FlagStatus.OPEN,
                                               target_id__in={g["target_id"] for g in groups})
                    .order_by("id").values_list("kind", "target_id", "reason")):
        reasons.setdefault((k, t), []).append(r)
    items: dict[tuple[str, int], tuple[Any, Kind]] = {}
    by_kind: dict[str, set[int]] = {}
    for g in groups:
        by_kind.setdefault(g["kind"], set()).add(g["target_id"])
    for name, ids in by_kind.items():
        registered = KINDS.get(name)
        if registered is None:
            continue
        for pk, row in registered.model._default_manager.in_bulk(ids).items():
            items[(name, pk)] = (row, registered)
    out = []
    for g in groups:
        found = items.get((g["kind"], g["target_id"]))
        obj: Any = found[0] if found else None
        spec: Kind | None = found[1] if found else None
        out.append(QueueItem(
            kind=g["kind"], target_id=g["target_id"], region=regions.get(g["region_id"]),
            text=getattr(obj, spec.text_field, "") if spec else "",
            author_id=getattr(obj, f"{spec.author_field}_id", None) if spec else None,
            flags=g["n"], reasons=reasons.get((g["kind"], g["target_id"]), [])[:5],
            first_at=g["first"], hidden=bool(obj is not None and obj.hidden_at is not None)))
    return out


def _resolve_flags(actor: Any, spec: Kind, target_id: int, status: str) -> int:
    return ContentFlag.objects.filter(kind=spec.name, target_id=target_id,
                                      status=FlagStatus.OPEN).update(
        status=status, resolved_at=timezone.now(), resolved_by=actor)


def _staff_item(actor: Any, kind: str, target_id: int) -> tuple[Kind, Any, Region]:
    spec = kind_of(kind)
    item = _item(spec, target_id, lock=True)
    region = region_of(spec, item)
    if not access_for_user(actor).can(Perm.POST_MODERATE, region):
        raise ContentNotFound()  # outside the actor's scope: as if it did not exist
    return spec, item, region


def take_down(*, actor: Any, kind: str, target_id: int, reason: str, request: Any = None) -> Any:
    """Staff over the item's region hide it from residents (kept, with the reason); its open
    flags are resolved as taken down. Audited."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise InvalidInput(code="reason_required",
                           fields={"reason": [gettext_lazy("Say why it is taken down.")]})
    with transaction.atomic():
        spec, item, region = _staff_item(actor, kind, target_id)
        if item.hidden_at is not None:
            raise AlreadyHidden()
        now = timezone.now()
        spec.model._default_manager.filter(pk=item.pk).update(
            hidden_at=now, hidden_reason=reason, hidden_by=actor)
        item.hidden_at, item.hidden_reason, item.hidden_by = now, reason, actor
        flags = _resolve_flags(actor, spec, item.pk, FlagStatus.TAKEN_DOWN)
        if spec.on_change is not None:
            spec.on_change(item, True)
        audit.record(actor=actor, action="governance.moderation.take_down", obj=item,
                     region=region, request=request,
                     data={"kind": spec.name, "reason": reason, "flags": flags})
    return item


def restore(*, actor: Any, kind: str, target_id: int, request: Any = None) -> Any:
    """Show a taken-down item again (audited)."""
    with transaction.atomic():
        spec, item, region = _staff_item(actor, kind, target_id)
        if item.hidden_at is None:
            raise NotHidden()
        spec.model._default_manager.filter(pk=item.pk).update(
            hidden_at=None, hidden_reason="", hidden_by=None)
        item.hidden_at, item.hidden_reason, item.hidden_by = None, "", None
        if spec.on_change is not None:
            spec.on_change(item, False)
        audit.record(actor=actor, action="governance.moderation.restore", obj=item,
                     region=region, request=request, data={"kind": spec.name})
    return item


def dismiss(*, actor: Any, kind: str, target_id: int, request: Any = None) -> int:
    """The flags on an item were unfounded: resolve them, leave it up (audited). Returns how
    many flags were resolved."""
    with transaction.atomic():
        spec, item, region = _staff_item(actor, kind, target_id)
        n = _resolve_flags(actor, spec, item.pk, FlagStatus.DISMISSED)
        audit.record(actor=actor, action="governance.moderation.dismiss", obj=item,
                     region=region, request=request, data={"kind": spec.name, "flags": n})
    return n


# --- the kinds of this area -------------------------------------------------------------------


def _post_comment_changed(item: Any, hidden: bool) -> None:
    from django.db.models import F

    if hidden:
        CommunityPost.objects.filter(pk=item.post_id, comments__gt=0).update(
            comments=F("comments") - 1)
    else:
        CommunityPost.objects.filter(pk=item.post_id).update(comments=F("comments") + 1)


POST = register(Kind("post", CommunityPost, "region"))
POST_COMMENT = register(Kind("post_comment", PostComment, "post__region",
                             on_change=_post_comment_changed))
TOPIC_COMMENT = register(Kind("topic_comment", TopicComment, "topic__region"))
