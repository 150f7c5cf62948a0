"""Builders for deliberation, posts and moderation tests: topics of town t1 (新嘉街道) or
community k2 (新南社区), residents living there, and posts of k2."""

from __future__ import annotations

from typing import Any

from sportsman.governance import deliberation, posts
from sportsman.governance.models import CommunityPost, Topic


def resident(tree: Any, region: Any = None, **extra: Any) -> Any:
    return tree.user(home_community=region or tree.k2, **extra)


def open_topic(tree: Any, *, region: Any = None, title: str = "篮球场夜间照明延长",
               live: bool = False) -> Topic:
    topic = deliberation.raise_topic(actor=tree.district_admin, region_id=(region or tree.t1).pk,
                                     title=title, body="晚上九点后能否延长照明到十点？")
    if live:
        Topic.objects.filter(pk=topic.pk).update(show_results_live=True)
    topic.refresh_from_db()
    return topic


def proposal(tree: Any, *, by: Any = None, threshold: int | None = None) -> Topic:
    topic = deliberation.propose_topic(actor=by or resident(tree), title="社区健身路径增设",
                                       body="小区东侧空地增设一组健身器材。")
    if threshold is not None:
        Topic.objects.filter(pk=topic.pk).update(support_threshold=threshold)
        topic.refresh_from_db()
    return topic


def closed_topic(tree: Any, votes: tuple[str, ...] = ("support", "support", "oppose")) -> Topic:
    topic = open_topic(tree)
    for choice in votes:
        deliberation.vote(actor=resident(tree), topic_id=topic.pk, choice=choice)
    return deliberation.close_topic(actor=tree.town_admin, topic_id=topic.pk)


def post(tree: Any, *, author: Any = None, text: str = "周六上午找羽毛球搭子") -> CommunityPost:
    return posts.publish(actor=author or resident(tree), text=text)
