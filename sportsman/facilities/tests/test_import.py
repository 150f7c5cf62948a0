"""Bulk import: every bad row reported (row, column, reason) with nothing loaded; a good file
loads; the same file again changes nothing; csv in UTF-8 with BOM and in GB18030; xlsx."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import translation

from sportsman.core.models import AuditEntry
from sportsman.facilities import imports
from sportsman.facilities.exports import facilities_workbook
from sportsman.facilities.models import Facility, OpeningException, OpeningRule, Unit
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

HEADER = ["名称", "类别", "权属", "所属社区代码", "地址", "纬度", "经度", "运动项目", "容量",
          "开放时间", "特殊日期", "开放单元", "单元时长", "价格", "联系人", "联系电话", "外部编号"]


def _rows(tree):
    return [
        ["花园篮球场", "多功能运动场", "社区", tree.k1.code, "花园路1号", "30.7522", "120.7555",
         "篮球、羽毛球", "40", "周一至周五 17:30-21:00; 周六至周日 06:00-21:00", "",
         "1号场,2号场", "60", "20", "王老师", "0573-82000000", "JX-001"],
        ["实验小学操场", "school_ground", "school", tree.k2.code, "新南路8号", "30.75",
         "120.76", "running", "200", "周一至周五 06:00-07:30,17:30-21:00; 周六至周日 06:00-21:00",
         "2026-07-05 至 2026-08-31 06:00-21:00; 2026-10-01 至 2026-10-03 闭馆", "", "", "",
         "", "", "JX-002"],
    ]


def _csv(rows, *, encoding="utf-8", header=HEADER) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(rows, header=HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _snapshot():
    return (
        sorted(Facility.objects.values_list("external_ref", "name", "region_id", "lat", "lng",
                                            "capacity", "is_free", "is_bookable",
                                            "updated_at")),
        sorted(OpeningRule.objects.values_list("facility__external_ref", "weekday", "opens",
                                               "closes")),
        sorted(OpeningException.objects.values_list("facility__external_ref", "start_date",
                                                    "end_date", "is_closed")),
        sorted(Unit.objects.values_list("facility__external_ref", "name", "slot_minutes",
                                        "price_cents", "is_active")),
    )


def test_a_good_file_loads_with_hours_exceptions_and_units(tree):
    report = imports.import_facilities(actor=tree.town_admin, content=_csv(_rows(tree)))
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    court = Facility.objects.get(external_ref="JX-001")
    assert court.region == tree.k1 and court.category == "multi_court"
    assert court.owner_kind == "community"
    assert sorted(s.slug for s in court.sports.all()) == ["badminton", "basketball"]
    assert court.is_bookable and not court.is_free
    assert list(court.units.values_list("name", "price_cents")) == [("1号场", 2000),
                                                                   ("2号场", 2000)]
    assert court.opening_rules.filter(weekday=0).get().opens == dt.time(17, 30)
    assert court.opening_rules.filter(weekday=6).get().opens == dt.time(6)
    school = Facility.objects.get(external_ref="JX-002")
    assert school.owner_kind == "school" and school.is_free and not school.is_bookable
    assert school.opening_rules.filter(weekday=2).count() == 2
    assert list(school.opening_exceptions.values_list("is_closed", flat=True)) == [False, True]
    assert AuditEntry.objects.filter(action="facility.import.create").count() == 2


def test_reimporting_the_same_file_changes_nothing(tree):
    content = _csv(_rows(tree))
    imports.import_facilities(actor=tree.town_admin, content=content)
    before = _snapshot()
    audits = AuditEntry.objects.count()
    report = imports.import_facilities(actor=tree.town_admin, content=content)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert _snapshot() == before
    assert AuditEntry.objects.count() == audits


def test_a_changed_row_updates_in_place(tree):
    imports.import_facilities(actor=tree.town_admin, content=_csv(_rows(tree)))
    rows = _rows(tree)
    rows[0][8] = "50"
    rows[0][11] = "1号场"
    report = imports.import_facilities(actor=tree.town_admin, content=_csv(rows))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    court = Facility.objects.get(external_ref="JX-001")
    assert court.capacity == 50 and Facility.objects.count() == 2
    assert list(court.units.filter(is_active=True).values_list("name", flat=True)) == ["1号场"]


def test_every_bad_row_is_reported_and_nothing_is_loaded(tree):
    rows = _rows(tree)
    rows[0][5] = "91"  # latitude out of range
    rows[0][1] = "体育场"  # unknown category
    rows[1][3] = "330411104008"  # k4: outside the town admin's scope
    rows[1][9] = "周八 06:00-07:00"
    rows.append(["", "multi_court", "", tree.k1.code, "路", "30", "120", "冰壶", "", "",
                 "", "", "5", "免费", "", "", "JX-001"])
    with translation.override("en"), pytest.raises(imports.FacilityFileError) as exc:
        imports.import_facilities(actor=tree.town_admin, content=_csv(rows))
    problems = {(p.row, p.column) for p in exc.value.problems}
    assert {(2, "纬度"), (2, "类别"), (3, "所属社区代码"), (3, "开放时间"), (4, "名称"),
            (4, "运动项目"), (4, "单元时长"), (4, "外部编号")} <= problems
    reasons = {(p.row, p.column): p.reason for p in exc.value.problems}
    assert "row 2" in reasons[(4, "外部编号")].lower() or "2" in reasons[(4, "外部编号")]
    assert not Facility.objects.exists()
    assert exc.value.as_dict()["code"] == "facility_file_invalid"


def test_reasons_are_translated(tree):
    rows = _rows(tree)
    rows[0][5] = "north"
    with translation.override("zh-hans"), pytest.raises(imports.FacilityFileError) as zh:
        imports.import_facilities(actor=tree.town_admin, content=_csv(rows))
    with translation.override("en"), pytest.raises(imports.FacilityFileError) as en:
        imports.import_facilities(actor=tree.town_admin, content=_csv(rows))
    assert en.value.problems[0].reason == "Enter a number."
    assert zh.value.problems[0].column == "纬度"


def test_missing_and_unknown_columns_are_reported_on_row_1(tree):
    content = _csv([], header=["名称", "颜色"])
    with pytest.raises(imports.FacilityFileError) as exc:
        imports.import_facilities(actor=tree.town_admin, content=content)
    problems = {(p.row, p.column) for p in exc.value.problems}
    assert (1, "颜色") in problems and (1, "所属社区代码") in problems
    assert all(p.row == 1 for p in exc.value.problems)


def test_csv_with_bom_and_gb18030_both_load(tree):
    bom = b"\xef\xbb\xbf" + _csv(_rows(tree)[:1])
    imports.import_facilities(actor=tree.town_admin, content=bom)
    gb = _csv(_rows(tree)[1:], encoding="gb18030")
    assert gb.decode("gb18030") and not _is_utf8(gb)
    imports.import_facilities(actor=tree.town_admin, content=gb)
    assert set(Facility.objects.values_list("name", flat=True)) == {"花园篮球场", "实验小学操场"}


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_xlsx_loads_and_a_dry_run_writes_nothing(tree):
    content = _xlsx(_rows(tree))
    report = imports.import_facilities(actor=tree.town_admin, content=content, dry_run=True)
    assert (report.rows, report.created) == (2, 2) and not Facility.objects.exists()
    imports.import_facilities(actor=tree.town_admin, content=content)
    assert Facility.objects.count() == 2


def test_an_export_imports_back_without_changes(tree):
    imports.import_facilities(actor=tree.town_admin, content=_csv(_rows(tree)))
    before = _snapshot()
    exported = facilities_workbook(Facility.objects.order_by("name"))
    report = imports.import_facilities(actor=tree.town_admin, content=exported)
    assert report.unchanged == 2
    assert _snapshot() == before


def test_a_reference_owned_outside_scope_is_refused(tree):
    make_facility(tree.k3, external_ref="JX-001")
    with pytest.raises(imports.FacilityFileError) as exc:
        imports.import_facilities(actor=tree.town_admin, content=_csv(_rows(tree)[:1]))
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "外部编号")]


@pytest.mark.parametrize(("text", "expected"), [
    ("每天 06:00-22:00", [(d, dt.time(6), dt.time(22)) for d in range(7)]),
    ("周六、周日 08:00-12:00", [(5, dt.time(8), dt.time(12)), (6, dt.time(8), dt.time(12))]),
    ("周一至周三 06:00-07:30,17:30-21:00", [
        (d, o, c) for d in range(3) for o, c in [(dt.time(6), dt.time(7, 30)),
                                                (dt.time(17, 30), dt.time(21))]]),
    ("周五 06:00-24:00", [(4, dt.time(6), dt.time(23, 59, 59))]),
    ("周五至周一 06:00-07:00", None), ("周一 6点到7点", None), ("", []),
])
def test_parse_hours(text, expected):
    parsed = imports.parse_hours(text)
    assert (sorted(parsed) if parsed is not None else None) == expected


def test_a_file_without_optional_columns_leaves_those_parts_alone(tree):
    imports.import_facilities(actor=tree.town_admin, content=_csv(_rows(tree)))
    court = Facility.objects.get(external_ref="JX-001")
    Facility.objects.filter(pk=court.pk).update(holiday_hours="closed")
    short = ["名称", "类别", "所属社区代码", "地址", "纬度", "经度", "外部编号"]
    row = ["花园篮球场（新）", "multi_court", tree.k1.code, "花园路1号", "30.7522", "120.7555",
           "JX-001"]
    report = imports.import_facilities(actor=tree.town_admin, content=_csv([row], header=short))
    assert report.updated == 1
    court.refresh_from_db()
    assert court.name == "花园篮球场（新）"
    assert (court.contact_name, court.contact_phone, court.capacity) == (
        "王老师", "0573-82000000", 40)
    assert court.holiday_hours == "closed" and court.owner_kind == "community"
    assert court.units.filter(is_active=True).count() == 2
    assert court.opening_rules.count() == 7 and court.sports.count() == 2
