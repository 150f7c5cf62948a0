"""Registry services: every validation error is clear and writes nothing; scope is enforced;
the free/bookable flags follow the units; photos are re-encoded without EXIF."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from sportsman.core.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from sportsman.core.models import AuditEntry
from sportsman.facilities import registry
from sportsman.facilities.models import Facility, FacilityPhoto, OpeningRule, Unit
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}


def _data(tree, **over):
    data = {"name": "新南球场", "owner_kind": "community", "category": "multi_court",
            "region": tree.k2.pk, "address": "新南路1号", "lat": 30.75, "lng": 120.75}
    data.update(over)
    return data


def _nothing_written():
    return (not Facility.objects.exists() and not AuditEntry.objects.filter(
        action__startswith="facility").exists())


def test_create_facility_in_scope_is_audited(tree):
    f = registry.create_facility(actor=tree.town_admin,
                                 data=_data(tree, sports=["basketball", "羽毛球"]))
    assert f.region == tree.k2 and not f.is_bookable and f.is_free
    assert sorted(s.slug for s in f.sports.all()) == ["badminton", "basketball"]
    entry = AuditEntry.objects.get(action="facility.create")
    assert entry.region == tree.k2 and entry.actor == tree.town_admin


@pytest.mark.parametrize(("field", "value"), [
    ("lat", 91), ("lat", "north"), ("lng", -181), ("lng", float("nan")), ("name", ""),
    ("name", "x" * 101), ("category", "stadium"), ("owner_kind", "king"), ("status", "x"),
    ("holiday_hours", "sometimes"), ("capacity", -1), ("capacity", "many"),
    ("sports", ["curling"]), ("contact_phone", "call me"), ("address", ""),
    ("amenities", ["x"] * 31),
])
def test_each_bad_field_is_named_and_nothing_is_written(tree, field, value):
    with pytest.raises(InvalidInput) as exc:
        registry.create_facility(actor=tree.town_admin, data=_data(tree, **{field: value}))
    assert field in exc.value.fields
    assert exc.value.as_dict()["fields"][field]
    assert _nothing_written()


def test_every_bad_field_is_reported_at_once(tree):
    with pytest.raises(InvalidInput) as exc:
        registry.create_facility(actor=tree.town_admin,
                                 data=_data(tree, lat=100, lng=200, category="x"))
    assert {"lat", "lng", "category"} <= set(exc.value.fields)


def test_missing_required_fields_and_unknown_fields_are_named(tree):
    with pytest.raises(InvalidInput) as exc:
        registry.create_facility(actor=tree.town_admin, data={"name": "x", "colour": "red"})
    assert {"owner_kind", "category", "region", "address", "lat", "lng", "colour"} <= set(
        exc.value.fields)
    assert _nothing_written()


def test_a_town_is_not_a_facility_region(tree):
    with pytest.raises(InvalidInput) as exc:
        registry.create_facility(actor=tree.town_admin, data=_data(tree, region=tree.t1.pk))
    assert "region" in exc.value.fields
    assert _nothing_written()


def test_a_community_outside_scope_is_not_found(tree):
    with pytest.raises(NotFound):
        registry.create_facility(actor=tree.community_admin, data=_data(tree))
    assert _nothing_written()


def test_residents_and_visitors_may_not_register(tree):
    with pytest.raises(Forbidden):
        registry.create_facility(actor=tree.resident, data=_data(tree))
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        registry.create_facility(actor=AnonymousUser(), data=_data(tree))
    assert _nothing_written()


def test_duplicate_external_ref_is_refused(tree):
    make_facility(tree.k2, external_ref="JX-1")
    with pytest.raises(InvalidInput) as exc:
        registry.create_facility(actor=tree.town_admin, data=_data(tree, external_ref="JX-1"))
    assert "external_ref" in exc.value.fields


def test_update_changes_only_given_fields_and_audits_them(tree):
    f = make_facility(tree.k2)
    registry.update_facility(actor=tree.town_admin, facility_id=f.pk,
                             changes={"capacity": 55, "sports": ["tennis"]})
    f.refresh_from_db()
    assert f.capacity == 55 and [s.slug for s in f.sports.all()] == ["tennis"]
    entry = AuditEntry.objects.get(action="facility.update")
    assert entry.data == {"capacity": 55, "sports": ["tennis"]}


def test_update_that_changes_nothing_writes_no_audit(tree):
    f = make_facility(tree.k2, capacity=40)
    registry.update_facility(actor=tree.town_admin, facility_id=f.pk, changes={"capacity": 40})
    assert not AuditEntry.objects.filter(action="facility.update").exists()


def test_update_of_another_regions_facility_is_not_found_and_changes_nothing(tree):
    f = make_facility(tree.k2, name="原名")
    with pytest.raises(NotFound):
        registry.update_facility(actor=tree.sibling_town_admin, facility_id=f.pk,
                                 changes={"name": "新名"})
    f.refresh_from_db()
    assert f.name == "原名"


def test_moving_to_a_community_outside_scope_is_not_found(tree):
    f = make_facility(tree.k1)
    with pytest.raises(NotFound):
        registry.update_facility(actor=tree.venue_manager, facility_id=f.pk,
                                 changes={"region": tree.k2.pk})
    f.refresh_from_db()
    assert f.region == tree.k1


# --- hours --------------------------------------------------------------------------------------

def test_set_opening_rules_replaces_the_week(tree):
    f = make_facility(tree.k2)
    registry.set_opening_rules(actor=tree.town_admin, facility_id=f.pk, rules=[
        {"weekday": 0, "opens": "06:00", "closes": "07:30"},
        {"weekday": 0, "opens": "17:30", "closes": "21:00"},
        {"weekday": 6, "opens": "06:00", "closes": "24:00"}])
    assert list(f.opening_rules.values_list("weekday", "opens", "closes")) == [
        (0, dt.time(6), dt.time(7, 30)), (0, dt.time(17, 30), dt.time(21)),
        (6, dt.time(6), dt.time(23, 59, 59))]
    assert AuditEntry.objects.filter(action="facility.hours").count() == 1


@pytest.mark.parametrize("rules", [
    [{"weekday": 0, "opens": "09:00", "closes": "08:00"}],
    [{"weekday": 0, "opens": "09:00", "closes": "09:00"}],
    [{"weekday": 7, "opens": "08:00", "closes": "09:00"}],
    [{"weekday": 0, "opens": "8am", "closes": "09:00"}],
    [{"weekday": 0, "opens": "25:00", "closes": "26:00"}],
    [{"weekday": 1, "opens": "08:00", "closes": "12:00"},
     {"weekday": 1, "opens": "11:00", "closes": "14:00"}],
])
def test_bad_rules_are_refused_and_the_old_week_stays(tree, rules):
    f = make_facility(tree.k2)
    with pytest.raises(InvalidInput) as exc:
        registry.set_opening_rules(actor=tree.town_admin, facility_id=f.pk, rules=rules)
    assert any(k.startswith("rules.") for k in exc.value.fields)
    assert OpeningRule.objects.filter(facility=f).count() == 7
    assert not AuditEntry.objects.filter(action="facility.hours").exists()


def test_touching_periods_are_not_an_overlap(tree):
    f = make_facility(tree.k2)
    registry.set_opening_rules(actor=tree.town_admin, facility_id=f.pk, rules=[
        {"weekday": 2, "opens": "08:00", "closes": "12:00"},
        {"weekday": 2, "opens": "12:00", "closes": "14:00"}])
    assert f.opening_rules.count() == 2


def test_exceptions_add_validate_and_remove(tree):
    f = make_facility(tree.k2)
    exc = registry.add_opening_exception(actor=tree.town_admin, facility_id=f.pk, data={
        "start_date": "2026-07-05", "end_date": "2026-08-31", "opens": "06:00",
        "closes": "21:00", "reason": "暑假"})
    assert exc.opens == dt.time(6) and not exc.is_closed
    with pytest.raises(InvalidInput) as bad:
        registry.add_opening_exception(actor=tree.town_admin, facility_id=f.pk, data={
            "start_date": "2026-08-01", "end_date": "2026-08-02", "is_closed": True})
    assert "start_date" in bad.value.fields  # overlaps the summer holiday
    for data, field in [
        ({"start_date": "2026-10-03", "end_date": "2026-10-01", "is_closed": True}, "end_date"),
        ({"start_date": "nope", "end_date": "2026-10-01", "is_closed": True}, "start_date"),
        ({"start_date": "2026-10-01", "end_date": "2026-10-01"}, "opens"),
        ({"start_date": "2026-10-01", "end_date": "2026-10-01", "opens": "10:00",
          "closes": "09:00"}, "closes"),
    ]:
        with pytest.raises(InvalidInput) as bad:
            registry.add_opening_exception(actor=tree.town_admin, facility_id=f.pk, data=data)
        assert field in bad.value.fields
    assert f.opening_exceptions.count() == 1
    with pytest.raises(NotFound):
        registry.remove_opening_exception(actor=tree.community_admin, exception_id=exc.pk)
    registry.remove_opening_exception(actor=tree.town_admin, exception_id=exc.pk)
    assert not f.opening_exceptions.exists()


# --- units --------------------------------------------------------------------------------------

def test_units_keep_free_and_bookable_in_step(tree):
    f = make_facility(tree.k2, units=0)
    assert not f.is_bookable
    unit = registry.add_unit(actor=tree.town_admin, facility_id=f.pk,
                             data={"name": "1号场", "price_cents": 2000})
    f.refresh_from_db()
    assert f.is_bookable and not f.is_free
    registry.update_unit(actor=tree.town_admin, unit_id=unit.pk, changes={"price_cents": 0})
    f.refresh_from_db()
    assert f.is_free
    registry.update_unit(actor=tree.town_admin, unit_id=unit.pk,
                         changes={"price_cents": 500})
    registry.deactivate_unit(actor=tree.town_admin, unit_id=unit.pk)
    f.refresh_from_db()
    assert not f.is_bookable and f.is_free  # an inactive priced unit costs nothing


@pytest.mark.parametrize(("field", "value"), [
    ("slot_minutes", 14), ("slot_minutes", 481), ("capacity", 0), ("price_cents", -1),
    ("booking_mode", "auction"), ("sport", "curling"), ("name", ""),
])
def test_bad_unit_fields_are_named_and_nothing_is_written(tree, field, value):
    f = make_facility(tree.k2, units=0)
    with pytest.raises(InvalidInput) as exc:
        registry.add_unit(actor=tree.town_admin, facility_id=f.pk,
                          data={"name": "1号场", field: value})
    assert field in exc.value.fields
    assert not Unit.objects.filter(facility=f).exists()


def test_unit_names_are_unique_within_a_facility(tree):
    f = make_facility(tree.k2, units=1)
    with pytest.raises(InvalidInput):
        registry.add_unit(actor=tree.town_admin, facility_id=f.pk, data={"name": "1号场"})


def test_unit_of_another_region_is_not_found(tree):
    f = make_facility(tree.k2, units=1)
    with pytest.raises(NotFound):
        registry.update_unit(actor=tree.community_admin, unit_id=f.units.get().pk,
                             changes={"capacity": 9})
    assert f.units.get().capacity == 1


# --- photos -------------------------------------------------------------------------------------

def _jpeg_with_exif() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 32), "red")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_photo_is_reencoded_as_jpeg_without_exif(tree):
    from PIL import Image

    f = make_facility(tree.k2)
    raw = _jpeg_with_exif()
    assert b"SecretCam" in raw
    photo = registry.add_photo(actor=tree.town_admin, facility_id=f.pk, content=raw,
                               caption="正门")
    stored = photo.image.read()
    assert b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (64, 32)
        assert not image.getexif()


@pytest.mark.parametrize("content", [b"not an image", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                     b"GIF89a" + b"\x00" * 10])
def test_a_file_that_is_not_a_photo_is_refused(tree, content):
    f = make_facility(tree.k2)
    with pytest.raises(InvalidInput) as exc:
        registry.add_photo(actor=tree.town_admin, facility_id=f.pk, content=content)
    assert exc.value.code == "photo_invalid"
    assert not FacilityPhoto.objects.exists()


def test_a_photo_over_5_mb_is_refused(tree):
    f = make_facility(tree.k2)
    with pytest.raises(InvalidInput) as exc:
        registry.add_photo(actor=tree.town_admin, facility_id=f.pk,
                           content=b"\xff" * (registry.PHOTO_MAX_BYTES + 1))
    assert exc.value.code == "photo_too_large"
