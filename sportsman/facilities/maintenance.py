"""Maintenance tickets: opened by the system (a device worn, silent or faulty) or by staff, then
open → assigned → done through one service that enforces the transition table.

A device has at most one unfinished ticket of a kind (``ticket_one_open_per_device_kind``): the
insert of a second one fails inside a savepoint and is treated as "already open", so a device
that keeps wearing or stays silent does not flood its managers.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.facilities.models import Device, MaintenanceTicket, TicketKind, TicketStatus
from sportsman.regions.access import Access, Perm, access_for_user, holders

# status -> the statuses it may move to. "assigned → assigned" hands a ticket to someone else,
# "assigned → open" gives it back; a done ticket is final (a new problem opens a new ticket).
TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.OPEN: frozenset({TicketStatus.ASSIGNED, TicketStatus.DONE}),
    TicketStatus.ASSIGNED: frozenset({TicketStatus.ASSIGNED, TicketStatus.OPEN,
                                      TicketStatus.DONE}),
    TicketStatus.DONE: frozenset(),
}


class TicketTransitionNotAllowed(Conflict):
    code = "ticket_transition_not_allowed"
    default_message = gettext_lazy("The ticket cannot move to this status from its current one.")


class TicketFollowsReport(Conflict):
    code = "ticket_follows_report"
    default_message = gettext_lazy("This ticket follows a resident's report: handle the report "
                                   "and the ticket moves with it.")


class AssigneeRequired(InvalidInput):
    code = "assignee_required"
    default_message = gettext_lazy("Choose who takes the ticket.")


class AssigneeNotAllowed(InvalidInput):
    code = "assignee_not_allowed"
    default_message = gettext_lazy("This person does not manage this facility.")


def _managers(device: Device) -> QuerySet[Any]:
    return holders(Perm.FACILITY_MANAGE, device.facility.region)


def open_device_ticket(*, device: Device, kind: str, title: str, note: str = "") -> \
        MaintenanceTicket | None:
    """Open a ``kind`` ticket for ``device`` unless one is already unfinished; tell the
    facility's managers about a new one. Returns the new ticket, or None if one was open. Called
    by the system (no actor); must run inside the caller's transaction. Side effect: the
    managers' notifications (inbox rows now, deliveries after commit)."""
    from sportsman.notifications.categories import Category
    from sportsman.notifications.services import notify

    try:
        with transaction.atomic():
            ticket = MaintenanceTicket.objects.create(
                facility_id=device.facility_id, device=device, kind=kind, title=title[:200],
                note=note)
    except IntegrityError:
        return None  # an unfinished ticket of this kind exists: the manager already knows
    notify(users=_managers(device), category=Category.SYSTEM, title=ticket.title,
           body=_("%(facility)s · %(device)s") % {"facility": device.facility.name,
                                                   "device": device.name},
           data={"ticket_id": ticket.pk, "facility_id": device.facility_id,
                 "device_id": device.pk, "kind": kind},
           dedupe_key=f"facilities.ticket:{ticket.pk}")
    return ticket


# a report's status -> its ticket's
REPORT_TO_TICKET = {"submitted": TicketStatus.OPEN, "accepted": TicketStatus.ASSIGNED,
                    "in_progress": TicketStatus.ASSIGNED, "resolved": TicketStatus.DONE,
                    "closed": TicketStatus.DONE, "rejected": TicketStatus.DONE,
                    "merged": TicketStatus.DONE}


def open_report_ticket(*, report_id: int, facility_id: int, title: str) -> MaintenanceTicket:
    """The facility's ticket for a resident's report (kind ``report``), once per report: a
    replayed event finds the one it made. The report's handlers are told by governance."""
    ticket, _created = MaintenanceTicket.objects.get_or_create(
        report_id=report_id,
        defaults={"facility_id": facility_id, "kind": TicketKind.REPORT, "title": title[:200]})
    return ticket


def follow_report(*, report_id: int, status: str, actor_id: int | None) -> None:
    """Move the report's ticket to the status matching the report's (``REPORT_TO_TICKET``):
    whoever works the report is the ticket's assignee; a reopened report opens it again."""
    to = REPORT_TO_TICKET.get(status)
    if to is None:
        return
    changes: dict[str, Any] = {"status": to, "updated_at": timezone.now()}
    if to == TicketStatus.ASSIGNED and actor_id is not None:
        changes["assignee_id"] = actor_id
    changes["done_at"] = timezone.now() if to == TicketStatus.DONE else None
    MaintenanceTicket.objects.filter(report_id=report_id).update(**changes)


def tickets_for(access: Access, *, facility_id: int | None = None,
                status: str | None = None) -> QuerySet[MaintenanceTicket]:
    """Tickets of facilities in the actor's FACILITY_MANAGE scope, newest first."""
    qs = access.scope(MaintenanceTicket.objects.select_related("device", "facility"),
                      Perm.FACILITY_MANAGE, field="facility__region")
    if facility_id is not None:
        qs = qs.filter(facility_id=facility_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def transition_ticket(*, actor: Any, ticket_id: int, to: str, assignee_id: int | None = None,
                      note: str = "") -> MaintenanceTicket:
    """Move a ticket along ``TRANSITIONS``. Needs FACILITY_MANAGE over the ticket's facility
    (a ticket outside the actor's scope is not found). "assigned" needs ``assignee_id``, a user
    who manages the facility; "done" stamps ``done_at`` and, on a wear ticket, restarts the
    device's wear count (``cycles_at_service = usage_cycles``). A non-empty ``note`` replaces
    the ticket's note. Audited."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.FACILITY_MANAGE)
    if to not in TRANSITIONS:
        raise InvalidInput(code="invalid_status", fields={"to": [_("Unknown status.")]})
    with transaction.atomic():
        ticket = (tickets_for(access).select_for_update(of=("self",))
                  .filter(pk=ticket_id).first())
        if ticket is None:
            raise NotFound()
        before = ticket.status
        if ticket.report_id is not None:
            raise TicketFollowsReport()
        if to not in TRANSITIONS[before]:
            raise TicketTransitionNotAllowed()
        region = ticket.facility.region
        if to == TicketStatus.ASSIGNED:
            if assignee_id is None:
                raise AssigneeRequired()
            if not holders(Perm.FACILITY_MANAGE, region).filter(pk=assignee_id).exists():
                raise AssigneeNotAllowed()
            ticket.assignee_id = assignee_id
        elif to == TicketStatus.OPEN:
            ticket.assignee_id = None
        now = timezone.now()
        if to == TicketStatus.DONE:
            ticket.done_at = now
            if ticket.kind == TicketKind.WEAR and ticket.device_id is not None:
                Device.objects.filter(pk=ticket.device_id).update(
                    cycles_at_service=F("usage_cycles"))
        ticket.status = to
        if note:
            ticket.note = note
        ticket.save(update_fields=["status", "assignee", "done_at", "note", "updated_at"])
        audit.record(actor=actor, action="facilities.ticket.transition", obj=ticket,
                     region=region, data={"from": before, "to": to,
                                          "assignee_id": ticket.assignee_id})
    return ticket
