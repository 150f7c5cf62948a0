"""Scope-matrix cases of the devices and tickets API (collected by tests/test_scope_matrix.py):
every target is a facility in community k2, inside town t1."""

from __future__ import annotations

from tests.scope import Case, ids


def _device(tree):
    from sportsman.facilities.models import Device, MaintenanceTicket
    from sportsman.facilities.tests.factories import make_facility

    facility = make_facility(tree.k2, name="矩阵健身房")
    device = Device.objects.create(facility=facility, kind="equipment", name="跑步机",
                                   serial=f"MX-{facility.pk}", secret_hash="old-hash")
    ticket = MaintenanceTicket.objects.create(facility=facility, device=device, kind="fault",
                                              title="跑步机故障")
    return {"facility": facility, "device": device, "ticket": ticket}


def _secret_changed(tree, state) -> bool:
    from sportsman.facilities.models import Device

    return Device.objects.get(pk=state["device"].pk).secret_hash != "old-hash"


def _registered(tree, state) -> bool:
    from sportsman.facilities.models import Device

    return Device.objects.filter(serial="MX-NEW").exists()


def _ticket_done(tree, state) -> bool:
    from sportsman.facilities.models import MaintenanceTicket

    return MaintenanceTicket.objects.get(pk=state["ticket"].pk).status == "done"


CASES: list[Case] = [
    Case("devices.list of a k2 facility", op="GET /facilities/{facility_id}/devices",
         setup=_device,
         call=lambda c, t, s: c.get(f"/api/v1/facilities/{s['facility'].pk}/devices"),
         sees=lambda r, t, s: r.status_code == 200 and s["device"].pk in ids(r)),
    Case("devices.register at a k2 facility", op="POST /facilities/{facility_id}/devices",
         setup=_device,
         call=lambda c, t, s: c.json("post", f"/api/v1/facilities/{s['facility'].pk}/devices",
                                     {"kind": "counter", "name": "新闸机", "serial": "MX-NEW"}),
         changed=_registered),
    Case("devices.rotate-secret of a k2 device", op="POST /devices/{device_id}/rotate-secret",
         setup=_device,
         call=lambda c, t, s: c.post(f"/api/v1/devices/{s['device'].pk}/rotate-secret"),
         changed=_secret_changed),
    Case("tickets.list of a k2 facility", op="GET /facilities/{facility_id}/tickets",
         setup=_device,
         call=lambda c, t, s: c.get(f"/api/v1/facilities/{s['facility'].pk}/tickets"),
         sees=lambda r, t, s: r.status_code == 200 and s["ticket"].pk in ids(r)),
    Case("tickets.transition of a k2 ticket", op="POST /tickets/{ticket_id}/transition",
         setup=_device,
         call=lambda c, t, s: c.json("post", f"/api/v1/tickets/{s['ticket'].pk}/transition",
                                     {"to": "done"}),
         changed=_ticket_done),
]
