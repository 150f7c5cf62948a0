"""Every catalogued domain event may become webhook deliveries (``webhooks.fan_out``), under one
stable consumer name per event."""

from __future__ import annotations

from sportsman.core.events import consumer
from sportsman.interfaces import webhooks
from sportsman.interfaces.catalogue import TYPES

CONSUMER = "interfaces.webhooks"

for _type in TYPES:
    consumer(_type.domain_event, name=CONSUMER)(webhooks.fan_out)
