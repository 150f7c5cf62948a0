"""Checks on what residents write: the sensitive-word list and plain length and blank checks.

``check_text(value, field=..., max_length=...)`` returns the text trimmed, or raises
``InvalidInput`` with code ``sensitive_words`` (a listed word appears; the words are not echoed
back) or ``invalid``. The list is read once per process and kept ``CACHE_SECONDS``; saving or
deleting a word drops every process's copy through the cache's version key.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from sportsman.core.errors import InvalidInput
from sportsman.core.models import SensitiveWord

CACHE_SECONDS = 60
VERSION_KEY = "wording:version"
_loaded: dict[str, Any] = {"at": 0.0, "version": None, "words": ()}


def words() -> tuple[str, ...]:
    now = time.monotonic()
    version = cache.get(VERSION_KEY, 0)
    if now - _loaded["at"] > CACHE_SECONDS or _loaded["version"] != version:
        _loaded.update(at=now, version=version, words=tuple(
            w.casefold() for w in SensitiveWord.objects.values_list("word", flat=True)))
    return _loaded["words"]


def forget() -> None:
    _loaded.update(at=0.0, version=None, words=())


@receiver([post_save, post_delete], sender=SensitiveWord)
def _changed(**kwargs: Any) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, None)
    forget()


def contains_sensitive(text: str) -> bool:
    folded = text.casefold()
    return any(w in folded for w in words())


def check_text(value: str | None, *, field: str, max_length: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(_("Write something first."), fields={field: [_("This is empty.")]})
    if len(text) > max_length:
        message = _("At most %(n)d characters.") % {"n": max_length}
        raise InvalidInput(message, fields={field: [message]})
    if text and contains_sensitive(text):
        message = _("This contains words that may not be published here. Please rephrase.")
        raise InvalidInput(message, code="sensitive_words", fields={field: [message]})
    return text


# --- keeping the list (city staff) ---------------------------------------------------------------


def words_in_scope(access: Any) -> Any:
    from sportsman.regions.access import Perm

    return access.scope(SensitiveWord.objects.select_related("region"), Perm.WORDS_MANAGE)


def add_word(*, actor: Any, region_id: int, word: str, request: Any = None) -> SensitiveWord:
    """Add a word to the list of a city in the actor's scope (audited); adding it twice keeps
    one row."""
    from django.db import transaction

    from sportsman.core.audit import record
    from sportsman.regions.access import Perm, access_for_user
    from sportsman.regions.models import Region

    region = Region.objects.filter(pk=region_id).first()
    access_for_user(actor).require(Perm.WORDS_MANAGE, region)
    text = (word or "").strip()
    if not text or len(text) > 40:
        message = _("Between 1 and 40 characters.")
        raise InvalidInput(message, fields={"word": [message]})
    with transaction.atomic():
        row, _created = SensitiveWord.objects.get_or_create(
            region=region, word=text, defaults={"added_by": actor})
        record(actor=actor, action="wording.add", obj=row, region=region, request=request,
               data={"word": text})
    return row


def remove_word(*, actor: Any, word_id: int, request: Any = None) -> None:
    from django.db import transaction

    from sportsman.core.audit import record
    from sportsman.core.errors import NotFound
    from sportsman.regions.access import access_for_user

    with transaction.atomic():
        row = words_in_scope(access_for_user(actor)).filter(pk=word_id).first()
        if row is None:
            raise NotFound(_("No such word in your scope."))
        record(actor=actor, action="wording.remove", obj=row, region=row.region,
               request=request, data={"word": row.word})
        row.delete()
