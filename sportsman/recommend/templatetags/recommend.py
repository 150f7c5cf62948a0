"""``{% for_you_strip %}``: the first recommendations on the residents' home page (the home
page belongs to core, which does not read the recommender's tables)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("recommend/_strip.html", takes_context=True)
def for_you_strip(context: dict[str, Any]) -> dict[str, Any]:
    from sportsman.recommend.selectors import for_you

    user = context["request"].user
    if not user.is_authenticated:
        return {"items": []}
    page = for_you(user, limit=4)
    return {"items": page.items, "personal": page.personal}
