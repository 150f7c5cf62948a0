"""Bulk exchange: imports through the domain services, all or nothing, idempotent; every error
code; CSV encodings and xlsx; progress; exports scoped to the region's subtree; residents only
with their consent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.associations.models import Association
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.models import AuditEntry
from sportsman.events.models import Event
from sportsman.facilities.models import Facility
from sportsman.instructors.models import Instructor
from sportsman.interfaces import exchange
from sportsman.interfaces.models import ExchangeJob, ExchangeStatus
from sportsman.interfaces.tests.exchange_helpers import codes, csv_bytes, exported, run, xlsx_bytes

pytestmark = pytest.mark.django_db

ASSOC_HEADER = ["统一社会信用代码", "名称", "类型", "登记状态", "所属区域代码", "运动项目", "成立日期",
                "地址", "联系人", "联系电话"]


def _assoc_rows(tree, n: int = 2) -> list[list[str]]:
    rows = [ASSOC_HEADER]
    for i in range(n):
        rows.append([f"52330402MJ000000{i:02d}", f"花园社区健身队{i}", "team", "grassroots",
                     tree.k1.code, "", "2020-05-01", "花园路1号", "张三", "0573-8888888"])
    return rows


def _sport(slug: str = "badminton", name: str = "羽毛球"):
    from sportsman.instructors.tests.factories import sport

    return sport(slug, name)


# --- associations: create, update, idempotent ---------------------------------------------------

def test_association_import_creates_through_the_service_and_a_reimport_changes_nothing(tree):
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(_assoc_rows(tree)))
    assert job.status == ExchangeStatus.SUCCEEDED, job.errors
    assert job.summary == {"created": 2, "updated": 0, "unchanged": 0}
    assert (job.rows_total, job.rows_done) == (2, 2)
    made = Association.objects.get(credit_code="52330402MJ00000000")
    assert (made.region, made.address, made.founded_on) == (tree.k1, "花园路1号",
                                                             dt.date(2020, 5, 1))
    assert AuditEntry.objects.filter(action="associations.create").count() == 2
    entries = AuditEntry.objects.count()

    again = run(tree.town_admin, "associations", tree.t1, csv_bytes(_assoc_rows(tree)))
    assert again.summary == {"created": 0, "updated": 0, "unchanged": 2}
    assert Association.objects.count() == 2
    # only the job's own entry: nothing else was written
    assert AuditEntry.objects.count() == entries + 1


def test_association_reimport_updates_the_profile_and_refuses_a_new_name(tree):
    run(tree.town_admin, "associations", tree.t1, csv_bytes(_assoc_rows(tree, 1)))
    rows = _assoc_rows(tree, 1)
    rows[1][7] = "新地址2号"
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(rows))
    assert job.summary == {"created": 0, "updated": 1, "unchanged": 0}
    assert Association.objects.get().address == "新地址2号"
    rows[1][1] = "改名健身队"
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(rows))
    assert job.status == ExchangeStatus.FAILED
    assert job.errors == [{"row": 2, "column": "名称", "code": "not_editable",
                           "message": job.errors[0]["message"]}]


def test_a_file_with_one_bad_row_changes_nothing(tree):
    rows = _assoc_rows(tree, 3)
    rows[3][2] = "no-such-kind"
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(rows))
    assert job.status == ExchangeStatus.FAILED
    assert [(e["row"], e["column"], e["code"]) for e in job.errors] == [(4, "类型",
                                                                         "invalid_choice")]
    assert not Association.objects.exists()


def test_a_row_the_domain_service_refuses_is_reported_and_nothing_stays(tree):
    rows = _assoc_rows(tree, 2)
    rows[2][1] = "中国花园健身队"  # a local association may not be named 中国
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(rows))
    assert job.status == ExchangeStatus.FAILED
    assert [(e["row"], e["code"]) for e in job.errors] == [(3, "invalid_name")]
    assert not Association.objects.exists()
    assert not AuditEntry.objects.filter(action="associations.create").exists()


# --- encodings, xlsx, English headers -------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_accepted_encoding_imports(tree, encoding):
    job = run(tree.town_admin, "associations", tree.t1,
              csv_bytes(_assoc_rows(tree, 1), encoding))
    assert job.status == ExchangeStatus.SUCCEEDED, job.errors
    assert job.file_format == "csv"
    assert Association.objects.get().name == "花园社区健身队0"


def test_xlsx_imports_and_english_headers_are_accepted(tree):
    rows = _assoc_rows(tree, 1)
    rows[0] = ["Credit code", "Name", "Kind", "Legal status", "Region code", "Sport",
               "Founded on", "Address", "Contact", "Contact phone"]
    job = run(tree.town_admin, "associations", tree.t1, xlsx_bytes(rows))
    assert job.status == ExchangeStatus.SUCCEEDED, job.errors
    assert job.file_format == "xlsx"
    assert Association.objects.get().contact_name == "张三"


# --- every error code -------------------------------------------------------------------------

def test_header_problems(tree):
    job = run(tree.town_admin, "associations", tree.t1,
              csv_bytes([["名称", "名称", "奇怪的列"], ["x", "y", "z"]]))
    assert {"duplicate_column", "unknown_column", "missing_column"} <= codes(job)
    assert codes(run(tree.town_admin, "associations", tree.t1, b"\n\n")) == {"no_header"}
    assert codes(run(tree.town_admin, "associations", tree.t1,
                     csv_bytes([ASSOC_HEADER]))) == {"no_rows"}
    assert codes(run(tree.town_admin, "associations", tree.t1,
                     b"PK\x03\x04not really a zip")) == {"bad_file"}


def test_too_many_rows(tree, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_ROWS", 2)
    assert codes(run(tree.town_admin, "associations", tree.t1,
                     csv_bytes(_assoc_rows(tree, 3)))) == {"too_many_rows"}


def test_cell_and_row_codes(tree):
    _sport()
    rows = _assoc_rows(tree, 9)
    rows[1][1] = ""  # required
    rows[2][1] = "长" * 81  # too_long
    rows[3][6] = "2020-13-45"  # invalid_date
    rows[4][4] = "3304"  # invalid_region_code
    rows[5][4] = "330402999999"  # region_not_found
    rows[6][4] = tree.k3.code  # region_out_of_scope (t2, not t1)
    rows[7][5] = "不存在的运动"  # unknown_sport
    rows[8][0] = rows[9][0]  # duplicate_key (row 10 repeats row 9's key)
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(rows))
    found = {(e["row"], e["code"]) for e in job.errors}
    assert found == {(2, "required"), (3, "too_long"), (4, "invalid_date"),
                     (5, "invalid_region_code"), (6, "region_not_found"),
                     (7, "region_out_of_scope"), (8, "unknown_sport"), (10, "duplicate_key")}
    assert all(e["message"] for e in job.errors)
    assert not Association.objects.exists()


def test_number_datetime_phone_and_key_codes(tree):
    from sportsman.events.tests.factories import make_event

    elsewhere = make_event(tree.k3, title="东栅活动")
    header = ["活动编号", "标题", "所属区域代码", "开始时间", "结束时间", "报名开始", "报名截止", "名额"]
    good = ["", "花园活动", tree.k1.code, "2027-03-01 09:00", "2027-03-01 11:00",
            "2027-02-01 09:00", "2027-02-28 18:00", "30"]
    rows = [header, [*good[:7], "abc"], [*good[:3], "明天", *good[4:]],
            [str(elsewhere.pk), *good[1:]], ["999999", *good[1:]]]
    job = run(tree.town_admin, "events", tree.t1, csv_bytes(rows))
    found = {(e["row"], e["code"]) for e in job.errors}
    assert found == {(2, "invalid_number"), (3, "invalid_datetime"), (4, "key_out_of_scope"),
                     (5, "key_not_found")}
    rows = [["证书编号", "姓名", "等级", "所属区域代码", "手机号"],
            ["ZJ-1", "王", "third", tree.k1.code, "12"],
            ["ZJ-2", "李", "third", tree.k1.code, "13900000000"],
            ["ZJ-3", "赵", "third", tree.k1.code, ""]]
    job = run(tree.town_admin, "instructors", tree.t1, csv_bytes(rows))
    assert {(e["row"], e["code"]) for e in job.errors} == {
        (2, "invalid_phone"), (3, "user_not_found"), (4, "required")}


def test_facility_rows_keep_the_register_checks(tree):
    rows = [["名称", "类别", "所属社区代码", "地址", "纬度", "经度", "外部编号"],
            ["花园球场", "multi_court", tree.k1.code, "花园路", "30.75", "120.75", "F-1"],
            ["坏球场", "nonsense", tree.k1.code, "花园路", "30.75", "120.75", "F-2"]]
    job = run(tree.town_admin, "facilities", tree.t1, csv_bytes(rows))
    assert [(e["row"], e["code"]) for e in job.errors] == [(3, "facility_row_invalid")]
    assert not Facility.objects.exists()


def test_start_refusals(tree):
    with pytest.raises(InvalidInput) as refused:
        exchange.start_import(actor=tree.town_admin, kind="residents", region_id=tree.t1.pk,
                              content=b"x")
    assert refused.value.code == "kind_not_importable"
    with pytest.raises(InvalidInput) as refused:
        exchange.start_import(actor=tree.town_admin, kind="spaceships", region_id=tree.t1.pk,
                              content=b"x")
    assert refused.value.code == "unknown_kind"
    with pytest.raises(InvalidInput) as refused:
        exchange.start_import(actor=tree.town_admin, kind="events", region_id=tree.t1.pk,
                              content=b"")
    assert refused.value.code == "empty_file"
    with pytest.raises(InvalidInput) as refused:
        exchange.start_import(actor=tree.town_admin, kind="events", region_id=tree.t1.pk,
                              content=b"x" * (exchange.MAX_BYTES + 1))
    assert refused.value.code == "file_too_large"
    with pytest.raises(NotFound) as missing:
        exchange.start_import(actor=tree.town_admin, kind="events", region_id=tree.t2.pk,
                              content=b"x")
    assert missing.value.code == "region_not_found"


# --- round trips: export → import changes nothing ------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_of_every_importable_kind_changes_nothing(tree, fmt):
    from sportsman.associations.models import Association
    from sportsman.events.tests.factories import make_event
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.instructors.tests.factories import make_instructor

    make_facility(tree.k1, external_ref="F-1")
    make_facility(tree.k2, name="新南球场", external_ref="F-2")
    Association.objects.create(name="花园太极队", kind="team", region=tree.k1,
                               credit_code="52330402MJ0000000X", sport=_sport("taichi", "太极拳"),
                               founded_on=dt.date(2019, 1, 2), address="=SUM(A1)")
    make_instructor(tree, tree.k1, certified_on=dt.date(2024, 3, 1))
    make_event(tree.k1, description="+86 开头的描述")
    for kind in ("facilities", "associations", "instructors", "events"):
        table = exported(tree.town_admin, kind, tree.t1, fmt)
        assert len(table) >= 2, kind
        content = csv_bytes(table) if fmt == "csv" else xlsx_bytes(table)
        entries = AuditEntry.objects.count()
        job = run(tree.town_admin, kind, tree.t1, content)
        assert job.status == ExchangeStatus.SUCCEEDED, (kind, job.errors)
        assert job.summary["created"] == job.summary["updated"] == 0, (kind, job.summary)
        assert AuditEntry.objects.count() == entries + 1, kind  # the job's entry only
    assert Association.objects.get().address == "=SUM(A1)"


def test_event_rows_without_an_id_match_on_region_title_and_start(tree):
    header = ["标题", "所属区域代码", "开始时间", "结束时间", "报名开始", "报名截止", "名额", "地点"]
    row = ["花园广场舞", tree.k1.code, "2027-03-01 09:00", "2027-03-01 11:00",
           "2027-02-01 09:00", "2027-02-28 18:00", "30", "花园广场"]
    first = run(tree.community_admin, "events", tree.k1, csv_bytes([header, row]))
    assert first.summary == {"created": 1, "updated": 0, "unchanged": 0}, first.errors
    row[6] = "40"
    second = run(tree.community_admin, "events", tree.k1, csv_bytes([header, row]))
    assert second.summary == {"created": 0, "updated": 1, "unchanged": 0}
    event = Event.objects.get()
    assert event.capacity == 40
    assert event.starts_at == timezone.make_aware(dt.datetime(2027, 3, 1, 9, 0))


def test_instructor_import_registers_the_resident_by_phone(tree):
    _sport()
    person = tree.user(home_community=tree.k1)
    rows = [["证书编号", "姓名", "等级", "所属区域代码", "运动项目", "手机号"],
            ["zj-0001", "王指导", "三级", tree.k1.code, "羽毛球", person.phone]]
    job = run(tree.town_admin, "instructors", tree.t1, csv_bytes(rows))
    assert job.status == ExchangeStatus.SUCCEEDED, job.errors
    made = Instructor.objects.get()
    assert (made.user, made.certificate_number, made.level) == (person, "ZJ-0001", "third")
    assert [s.slug for s in made.sports.all()] == ["badminton"]
    rows[1][2] = "second"
    assert run(tree.town_admin, "instructors", tree.t1, csv_bytes(rows)).summary["updated"] == 1
    assert Instructor.objects.get().level == "second"


# --- scope ------------------------------------------------------------------------------------

def test_exports_never_leave_the_region_subtree(tree):
    from sportsman.facilities.tests.factories import make_facility

    make_facility(tree.k1, external_ref="F-IN")
    make_facility(tree.k3, name="东栅球场", external_ref="F-OUT")
    refs = [r[-2] for r in exported(tree.town_admin, "facilities", tree.t1)[1:]]
    assert refs == ["F-IN"]
    refs = [r[-2] for r in exported(tree.sibling_town_admin, "facilities", tree.t2)[1:]]
    assert refs == ["F-OUT"]
    with pytest.raises(NotFound):
        exported(tree.sibling_town_admin, "facilities", tree.t1)
    with pytest.raises(NotFound):
        exported(tree.other_city_admin, "facilities", tree.city)


def test_imports_write_only_into_the_job_region(tree):
    rows = _assoc_rows(tree, 1)
    job = run(tree.district_admin, "associations", tree.t2, csv_bytes(rows))  # k1 is under t1
    assert codes(job) == {"region_out_of_scope"}
    assert not Association.objects.exists()


def test_reimport_of_a_key_held_outside_scope_is_refused(tree):
    Association.objects.create(name="东栅队", kind="team", region=tree.k3,
                               credit_code="52330402MJ00000000")
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(_assoc_rows(tree, 1)))
    assert codes(job) == {"key_out_of_scope"}
    assert Association.objects.get().name == "东栅队"


# --- residents: export only, with consent ----------------------------------------------------------

def test_residents_export_only_those_who_consented_and_only_allowed_fields(tree):
    from sportsman.accounts.models import Consent

    sharing = Consent.Purpose.SHARING
    yes = tree.user(home_community=tree.k1, nickname="同意", birth_year=1980)
    withdrew = tree.user(home_community=tree.k1, nickname="撤回")
    elsewhere = tree.user(home_community=tree.k3, nickname="东栅")
    Consent.objects.create(user=yes, purpose=sharing, version="1", granted=True)
    Consent.objects.create(user=withdrew, purpose=sharing, version="1", granted=True)
    Consent.objects.create(user=withdrew, purpose=sharing, version="1", granted=False)
    Consent.objects.create(user=elsewhere, purpose=sharing, version="1", granted=True)
    table = exported(tree.town_admin, "residents", tree.t1, "xlsx")
    assert table[0] == ["用户编号", "昵称", "所属社区代码", "性别", "出生年份", "运动兴趣"]
    assert table[1:] == [[str(yes.pk), "同意", tree.k1.code, "", "1980", ""]]
    assert AuditEntry.objects.filter(action="exchange.export", kind="view").count() == 1


# --- progress and the task ---------------------------------------------------------------------

def test_progress_moves_chunk_by_chunk(tree, monkeypatch):
    seen: list[int] = []
    real = exchange._apply

    def spy(ctx, handler, rows, *, check, summary=None):
        if check:
            seen.append(ExchangeJob.objects.get().rows_done)
        return real(ctx, handler, rows, check=check, summary=summary)

    monkeypatch.setattr(exchange, "CHUNK", 2)
    monkeypatch.setattr(exchange, "_apply", spy)
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(_assoc_rows(tree, 5)))
    assert seen == [0, 2, 4]
    assert (job.rows_total, job.rows_done, job.percent) == (5, 5, 100)


def test_the_task_runs_the_job_after_commit_once(tree, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        job = exchange.start_import(actor=tree.town_admin, kind="associations",
                                    region_id=tree.t1.pk, content=csv_bytes(_assoc_rows(tree, 1)))
    job.refresh_from_db()
    assert job.status == ExchangeStatus.SUCCEEDED
    assert exchange.run_import(job.pk) is None  # taken already: left alone
    assert Association.objects.count() == 1


def test_error_report_lists_every_problem(tree):
    from sportsman.core.errors import BadFile  # noqa: F401 - the house's shape for bad files

    rows = _assoc_rows(tree, 2)
    rows[1][2] = rows[2][2] = "bad"
    job = run(tree.town_admin, "associations", tree.t1, csv_bytes(rows))
    table = exchange.read_table(exchange.error_report(job))
    assert [r[:3] for r in table[1:]] == [["2", "类型", "invalid_choice"],
                                          ["3", "类型", "invalid_choice"]]


def test_a_job_whose_worker_died_runs_again_from_the_start(tree):
    content = csv_bytes(_assoc_rows(tree, 1))
    job = exchange.start_import(actor=tree.town_admin, kind="associations",
                                region_id=tree.t1.pk, content=content)
    later = timezone.now() + exchange.STALE_AFTER + dt.timedelta(minutes=1)
    ExchangeJob.objects.filter(pk=job.pk).update(status=ExchangeStatus.VALIDATING, rows_done=1)
    assert exchange.requeue_stale(now=timezone.now()) == []  # still fresh
    assert job.pk in exchange.requeue_stale(now=later)
    exchange.run_import(job.pk)
    job.refresh_from_db()
    assert job.status == ExchangeStatus.SUCCEEDED and Association.objects.count() == 1


def test_a_job_whose_starter_is_gone_changes_nothing(tree):
    job = exchange.start_import(actor=tree.town_admin, kind="associations",
                                region_id=tree.t1.pk, content=csv_bytes(_assoc_rows(tree, 1)))
    type(tree.town_admin).objects.filter(pk=tree.town_admin.pk).update(is_active=False)
    exchange.run_import(job.pk)
    job.refresh_from_db()
    assert codes(job) == {"forbidden"} and not Association.objects.exists()
