"""Importing a station's file: every bad cell reported (row, column, code), all or nothing, the
same file again writes nothing, a corrected row re-scores in place, residents linked by phone."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.errors import NotFound
from sportsman.core.models import AuditEntry
from sportsman.fitness import imports
from sportsman.fitness.models import FitnessTest, Grade, ItemResult, NoGrade
from sportsman.fitness.tests.fixtures import HEADERS, make_station, row, station_file, test_day
from sportsman.regions.access import Access

pytestmark = pytest.mark.django_db


def _import(tree, station, content, *, actor=None, edition="2003"):
    return imports.import_tests(access=Access(actor or tree.town_admin), station_id=station.pk,
                                edition=edition, content=content)


def _codes(exc) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in exc.value.problems]


def test_a_good_file_loads_scored_records(tree):
    station = make_station(tree.t1)
    report = _import(tree, station, station_file([row(serial=1), row(serial=2, male=False,
                                                                     age=45)]))
    assert (report.rows, report.created, report.unchanged) == (2, 2, 0)
    man = FitnessTest.objects.get(sex="M")
    assert (man.age, man.age_group, man.region_id, man.edition) == (30, "adult_a", tree.t1.pk,
                                                                     "2003")
    assert man.grade in Grade.values and man.total is not None and man.is_demonstration
    items = dict(ItemResult.objects.filter(test=man).values_list("item", "points"))
    assert items["height"] is None and items["height_weight"] == 5
    woman = FitnessTest.objects.get(sex="F")
    assert woman.age_group == "adult_b" and "push_up" not in set(
        woman.items.values_list("item", flat=True))
    assert AuditEntry.objects.filter(action="fitness.import").count() == 1


def test_the_same_file_again_writes_nothing(tree):
    station = make_station(tree.t1)
    content = station_file([row(serial=1), row(serial=2, age=50)])
    _import(tree, station, content)
    before = list(FitnessTest.objects.values_list("pk", "updated_at").order_by("pk"))
    items = ItemResult.objects.count()
    report = _import(tree, station, content)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert list(FitnessTest.objects.values_list("pk", "updated_at").order_by("pk")) == before
    assert ItemResult.objects.count() == items
    assert AuditEntry.objects.filter(action="fitness.import").count() == 1


def test_a_corrected_row_is_rescored_in_place(tree):
    station = make_station(tree.t1)
    _import(tree, station, station_file([row(serial=1)]))
    test = FitnessTest.objects.get()
    report = _import(tree, station, station_file([row(serial=1, 握力=10)]))
    assert (report.created, report.updated) == (0, 1)
    test.refresh_from_db()
    assert FitnessTest.objects.count() == 1
    assert test.no_grade == NoGrade.ZERO_ITEM and test.grade == ""
    assert test.items.get(item="grip").points == 0


def test_a_file_with_one_bad_row_changes_nothing(tree):
    station = make_station(tree.t1)
    _import(tree, station, station_file([row(serial=1)]))
    snapshot = list(FitnessTest.objects.values_list("pk", "total", "updated_at"))
    bad = station_file([row(serial=1, 握力=10), row(serial=2), row(serial=3, 肺活量="很多")])
    with pytest.raises(imports.FitnessFileError) as exc:
        _import(tree, station, bad)
    assert _codes(exc) == [(4, "肺活量", "bad_number")]
    assert exc.value.code == "fitness_file_invalid"
    assert list(FitnessTest.objects.values_list("pk", "total", "updated_at")) == snapshot


def test_every_problem_is_reported_with_row_column_and_code(tree):
    station = make_station(tree.t1)
    future = test_day() + dt.timedelta(days=30)
    broken_id = row(serial=4)
    broken_id[2] = broken_id[2][:-1] + ("0" if broken_id[2][-1] != "0" else "1")
    old = row(serial=5, age=75)
    rows = [row(serial=1), row(serial=1), row(serial=2, day=future), row(serial=3, phone="123"),
            broken_id, old, row(serial=6, 选择反应时=9)]
    wrong_sex = row(serial=7)
    wrong_sex[1] = "女"
    rows.append(wrong_sex)
    with pytest.raises(imports.FitnessFileError) as exc:
        _import(tree, station, station_file(rows))
    assert _codes(exc) == [
        (3, "身份证号", "duplicate_row"),
        (4, "测试日期", "future_date"),
        (5, "手机号", "bad_phone"),
        (6, "身份证号", "bad_id_number"),
        (7, "年龄", "age_out_of_range"),
        (8, "选择反应时", "out_of_range"),
        (9, "性别", "sex_mismatch"),
    ]
    assert all(str(p.reason) for p in exc.value.problems)
    assert not FitnessTest.objects.exists()


def test_header_problems_are_reported_before_any_row(tree):
    station = make_station(tree.t1)
    headers = [*HEADERS, "血型"]
    headers[4] = "日期"
    with pytest.raises(imports.FitnessFileError) as exc:
        _import(tree, station, station_file([[*row(), "A"]], headers=headers))
    codes = {(r, c) for r, _col, c in _codes(exc)}
    assert codes == {(1, "unknown_column"), (1, "missing_column")}


def test_a_station_outside_the_scope_is_not_found(tree):
    station = make_station(tree.t2)
    with pytest.raises(NotFound) as exc:
        _import(tree, station, station_file([row()]))
    assert exc.value.code == "station_not_found"
    assert not FitnessTest.objects.exists()


def test_a_mobile_number_links_the_resident_and_the_id_number_keeps_them_linked(tree):
    station = make_station(tree.t1)
    phone = tree.resident.phone
    report = _import(tree, station, station_file([row(serial=1, phone=phone)]))
    assert report.linked == 1
    assert FitnessTest.objects.get().user_id == tree.resident.pk
    later = station_file([row(serial=1, day=test_day() - dt.timedelta(days=400))])
    _import(tree, station, later)
    assert set(FitnessTest.objects.values_list("user_id", flat=True)) == {tree.resident.pk}


def test_a_phone_only_row_is_keyed_by_the_phone(tree):
    station = make_station(tree.t1)
    person = row(serial=1, phone="13912345678")
    person[2] = ""  # no ID number: sex from the column, age needs a birth date or an age
    headers = [*HEADERS, "年龄"]
    content = station_file([[*person, 33]], headers=headers)
    _import(tree, station, content)
    assert _import(tree, station, content).unchanged == 1
    test = FitnessTest.objects.get()
    assert (test.age, test.sex) == (33, "M")


def test_the_2023_edition_scores_its_own_items(tree):
    station = make_station(tree.t1)
    headers = ["姓名", "性别", "身份证号", "测试日期", "身高", "体重", "握力", "坐位体前屈",
               "选择反应时", "闭眼单脚站立", "30秒坐站", "2分钟原地高抬腿"]
    base = row(serial=1, age=72)
    person = [base[0], base[1], base[2], base[4], 165, 60, 30, 5, 0.6, 10, 14, 85]
    _import(tree, station, station_file([person], headers=headers), edition="2023")
    test = FitnessTest.objects.get()
    assert (test.edition, test.age_group) == ("2023", "elderly")
    assert "bmi" in set(test.items.values_list("item", flat=True)) and test.grade


def test_a_damaged_file_is_refused(tree):
    station = make_station(tree.t1)
    with pytest.raises(Exception) as exc:
        _import(tree, station, b"PK\x03\x04 not really a zip")
    assert getattr(exc.value, "code", "") == "bad_file"
