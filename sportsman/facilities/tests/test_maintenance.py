"""Maintenance tickets: the transition table, who may move a ticket, and a serviced device's
wear count starting again."""

from __future__ import annotations

import pytest

from sportsman.core.errors import NotFound
from sportsman.core.models import AuditEntry
from sportsman.facilities import devices, maintenance
from sportsman.facilities.models import Device, MaintenanceTicket, TicketKind
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(tree):
    facility = make_facility(tree.k2, name="新南社区百姓健身房")
    return Device.objects.create(facility=facility, kind="equipment", name="椭圆机",
                                 serial="EQ-1", secret_hash="-", wear_threshold=10)


@pytest.fixture
def worn(device):
    devices.ingest_events(device=device, events=[
        {"id": "u1", "type": "usage", "at": device.created_at.isoformat(),
         "data": {"cycles": 12}}])
    return MaintenanceTicket.objects.get(kind=TicketKind.WEAR)


def test_open_assigned_done_resets_the_wear_count(tree, device, worn):
    t = maintenance.transition_ticket(actor=tree.town_admin, ticket_id=worn.pk, to="assigned",
                                      assignee_id=tree.town_admin.pk)
    assert (t.status, t.assignee_id) == ("assigned", tree.town_admin.pk)
    t = maintenance.transition_ticket(actor=tree.town_admin, ticket_id=worn.pk, to="done",
                                      note="换了皮带")
    device.refresh_from_db()
    assert t.status == "done" and t.done_at is not None and t.note == "换了皮带"
    assert device.cycles_at_service == device.usage_cycles == 12
    assert AuditEntry.objects.filter(action="facilities.ticket.transition").count() == 2
    # The count starts again: the next crossing opens a new ticket.
    devices.ingest_events(device=device, events=[
        {"id": "u2", "type": "usage", "at": device.created_at.isoformat(),
         "data": {"cycles": 10}}])
    assert MaintenanceTicket.objects.filter(kind=TicketKind.WEAR, status="open").count() == 1


def test_done_is_final(tree, worn):
    maintenance.transition_ticket(actor=tree.town_admin, ticket_id=worn.pk, to="done")
    with pytest.raises(maintenance.TicketTransitionNotAllowed):
        maintenance.transition_ticket(actor=tree.town_admin, ticket_id=worn.pk, to="open")


def test_assigning_needs_a_manager_of_the_facility(tree, worn):
    with pytest.raises(maintenance.AssigneeRequired):
        maintenance.transition_ticket(actor=tree.town_admin, ticket_id=worn.pk, to="assigned")
    with pytest.raises(maintenance.AssigneeNotAllowed):
        maintenance.transition_ticket(actor=tree.town_admin, ticket_id=worn.pk, to="assigned",
                                      assignee_id=tree.sibling_town_admin.pk)
    assert MaintenanceTicket.objects.get(pk=worn.pk).status == "open"


def test_staff_of_another_region_cannot_see_or_move_the_ticket(tree, worn):
    for outsider in (tree.sibling_town_admin, tree.community_admin):
        with pytest.raises(NotFound):
            maintenance.transition_ticket(actor=outsider, ticket_id=worn.pk, to="done")
    assert MaintenanceTicket.objects.get(pk=worn.pk).status == "open"


def test_api_lists_and_transitions_tickets(tree, worn, api_client):
    client = api_client.as_user(tree.district_admin)
    listed = client.get(f"/api/v1/facilities/{worn.facility_id}/tickets?status=open")
    assert [t["id"] for t in listed.json()] == [worn.pk]
    moved = client.json("post", f"/api/v1/tickets/{worn.pk}/transition", {"to": "done"})
    assert moved.status_code == 200 and moved.json()["status"] == "done"
    again = client.json("post", f"/api/v1/tickets/{worn.pk}/transition", {"to": "assigned",
                                                                           "assignee_id": 1})
    assert again.status_code == 409
    assert again.json()["code"] == "ticket_transition_not_allowed"
