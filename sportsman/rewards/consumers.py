"""Points listen to the features that earn them.

``governance.volunteer_hours_approved`` → the volunteer's points for the credited hours under the
city's ``per_volunteer_hour`` rule, keyed by the event's ``key`` (one per sign-up): a replayed
event, or the same hours approved again, finds the entry and pays nothing more.
"""

from __future__ import annotations

from sportsman.core.events import consumer
from sportsman.core.models import DomainEvent
from sportsman.rewards.models import RuleKind
from sportsman.rewards.points import award_for

VOLUNTEER_HOURS_APPROVED = "governance.volunteer_hours_approved"


@consumer(VOLUNTEER_HOURS_APPROVED, name="rewards.volunteer_points")
def volunteer_points(event: DomainEvent) -> None:
    payload = event.payload
    award_for(RuleKind.PER_VOLUNTEER_HOUR, int(payload["user_id"]), int(payload["hours"]),
              key=str(payload["key"]), reason=f"volunteer × {int(payload['hours'])} h")
