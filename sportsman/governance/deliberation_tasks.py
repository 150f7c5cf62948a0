"""Background work of deliberation: telling a region's residents that a topic opened (queued
after the opening commits; takes the topic's id only)."""

from __future__ import annotations

from django.tasks import task


@task()
def push_opened_topic(topic_id: int) -> int:
    from sportsman.governance.deliberation import push_opened

    return push_opened(topic_id)
