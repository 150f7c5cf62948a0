"""What the facilities app does when other apps' events arrive: a resident's report about a
facility becomes a ticket in that facility's maintenance list, and the ticket follows the
report's status (governance publishes both events)."""

from __future__ import annotations

from sportsman.core.events import consumer
from sportsman.core.models import DomainEvent
from sportsman.facilities import maintenance


@consumer("governance.report_submitted", name="facilities.open_report_ticket")
def open_report_ticket(event: DomainEvent) -> None:
    p = event.payload
    maintenance.open_report_ticket(report_id=p["report_id"], facility_id=p["facility_id"],
                                   title=p["title"])


@consumer("governance.report_changed", name="facilities.follow_report")
def follow_report(event: DomainEvent) -> None:
    p = event.payload
    if p.get("facility_id") is None:
        return  # a report about no facility has no ticket to follow
    maintenance.follow_report(report_id=p["report_id"], status=p["status"],
                              actor_id=p.get("actor_id"))
