"""``{% my_groups_card %}``: the signed-in resident's groups for the home page, with unread
chat messages (the home page belongs to core, which does not read the groups' tables)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("groups/_my_groups_card.html", takes_context=True)
def my_groups_card(context: dict[str, Any]) -> dict[str, Any]:
    from sportsman.groups import chat, services

    user = context["request"].user
    mine = list(services.my_groups(user)[:5]) if user.is_authenticated else []
    unread = chat.unread_counts(user) if mine else {}
    return {"rows": [(g, unread.get(g.pk, 0)) for g in mine]}
