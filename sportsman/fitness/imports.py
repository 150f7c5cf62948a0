"""Importing a testing station's spreadsheet: one person per row, a column per item, as the
stations' software exports them (docs/fitness.md lists the columns).

The whole file is checked before anything is written: every bad cell is reported with its row
(as a spreadsheet shows it: the header is row 1), its column, a stable code and a translated
reason, and nothing is loaded. A good file loads in one transaction. Rows are matched on
(station, person, test day): importing the same file again writes nothing, and a corrected row
replaces its earlier values. A person is the keyed hash of their ID number (else their mobile
number); a row whose mobile number finds a resident's account is linked to it, and a person
once linked stays linked in later imports by ID number alone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.core import audit, crypto
from sportsman.core.errors import BadFile, Conflict, InvalidInput, NotFound, RowProblem
from sportsman.facilities.imports import read_table
from sportsman.fitness import scoring
from sportsman.fitness.models import Edition, FitnessTest, ItemResult, TestStation
from sportsman.regions.access import Access, Perm

FIRST_DATA_ROW = 2
MAX_ROWS = 5000
MAX_BYTES = 10 * 1024 * 1024
ID_PURPOSE = "id-number"

# header (and the other names stations use for it) → field
PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月日"),
    "age": ("年龄",),
    "id_number": ("身份证号", "身份证号码", "证件号码"),
    "phone": ("手机号", "手机号码", "联系电话"),
    "tested_on": ("测试日期", "检测日期", "测试时间"),
}
ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "height": ("身高",),
    "weight": ("体重",),
    "vital_capacity": ("肺活量",),
    "step_index": ("台阶指数", "台阶试验"),
    "bike_vo2": ("功率车二级负荷试验", "功率车", "最大摄氧量"),
    "grip": ("握力",),
    "push_up": ("俯卧撑",),
    "knee_push_up": ("跪卧撑",),
    "sit_up": ("1分钟仰卧起坐", "仰卧起坐"),
    "vertical_jump": ("纵跳",),
    "sit_reach": ("坐位体前屈",),
    "reaction": ("选择反应时",),
    "balance": ("闭眼单脚站立",),
    "sit_stand": ("30秒坐站",),
    "high_knee": ("2分钟原地高抬腿",),
}
# What a measurement can plausibly be (a value outside is a typing or unit error).
PLAUSIBLE: dict[str, tuple[Decimal, Decimal]] = {
    k: (Decimal(lo), Decimal(hi)) for k, (lo, hi) in {
        "height": ("50", "250"), "weight": ("10", "300"), "vital_capacity": ("100", "10000"),
        "step_index": ("10", "150"), "bike_vo2": ("5", "100"), "grip": ("0", "100"),
        "push_up": ("0", "200"), "knee_push_up": ("0", "200"), "sit_up": ("0", "200"),
        "vertical_jump": ("0", "120"), "sit_reach": ("-40", "50"), "reaction": ("0.1", "5"),
        "balance": ("0", "600"), "sit_stand": ("0", "60"), "high_knee": ("0", "300"),
    }.items()}
HEADER_OF = {k: names[0] for k, names in {**PERSON_COLUMNS, **ITEM_COLUMNS}.items()}
FIELD_OF = {name: k for k, names in {**PERSON_COLUMNS, **ITEM_COLUMNS}.items() for name in names}
_UNIT = re.compile(r"\s*[（(].*[)）]\s*$")  # "身高(cm)", "肺活量（毫升）"
_ID = re.compile(r"\d{17}[\dX]")
_PHONE = re.compile(r"1\d{10}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Problem(RowProblem):
    code: str = "invalid"


class FitnessFileError(BadFile):
    """A station file with bad rows. ``problems`` lists every one; nothing was loaded."""

    code = "fitness_file_invalid"


@dataclass
class Row:
    line: int
    person_key: str
    name: str
    id_number: str
    phone: str
    sex: str
    age: int
    tested_on: dt.date
    values: dict[str, Decimal]
    scored: scoring.Scored


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0  # rows whose person has a resident's account
    test_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "linked": self.linked}


# --- cells ------------------------------------------------------------------------------------

def id_number_ok(number: str) -> bool:
    """A valid 18-digit resident ID number (GB 11643: the last character checks the others)."""
    if not _ID.fullmatch(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def _date(text: str) -> dt.date | None:
    text = text.strip().split(" ")[0].replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", text) or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日?", text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# --- checking ---------------------------------------------------------------------------------

def _header_map(header: list[str], problems: list[Problem]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = _UNIT.sub("", raw.strip().lstrip("\ufeff"))
        if not name:
            continue
        key = FIELD_OF.get(name)
        if key is None:
            problems.append(Problem(1, raw, _("Unknown column."), "unknown_column"))
        elif key in index:
            problems.append(Problem(1, raw, _("The column appears twice."), "duplicate_column"))
        else:
            index[key] = i
    if "tested_on" not in index:
        problems.append(Problem(1, HEADER_OF["tested_on"], _("The required column is missing."),
                                "missing_column"))
    if "id_number" not in index and "phone" not in index:
        problems.append(Problem(1, HEADER_OF["id_number"],
                                _("A file needs an ID number or a mobile number column."),
                                "missing_column"))
    if not index.keys() & ITEM_COLUMNS.keys():
        problems.append(Problem(1, "", _("The file has no test item columns."),
                                "missing_column"))
    return index


def validate(table: list[list[str]], *, edition: str) -> tuple[list[Row], list[Problem]]:
    """Every row checked against the edition's tables: the rows ready to load and every
    problem found (row, column, code, reason)."""
    problems: list[Problem] = []
    if not table or not any(table[0]):
        return [], [Problem(1, "", _("The file has no header row."), "no_header")]
    index = _header_map(table[0], problems)
    if problems:
        return [], problems
    body = [(FIRST_DATA_ROW + i, r) for i, r in enumerate(table[1:]) if any(c for c in r)]
    if not body:
        return [], [Problem(FIRST_DATA_ROW, "", _("The file has no data rows."), "no_rows")]
    if len(body) > MAX_ROWS:
        return [], [Problem(FIRST_DATA_ROW, "", _("At most %(n)d rows per file.")
                            % {"n": MAX_ROWS}, "too_many_rows")]
    today = timezone.localdate()
    rows: list[Row] = []
    seen: dict[tuple[str, dt.date], int] = {}
    for line, raw in body:
        before = len(problems)

        def cell(key: str, raw: list[str] = raw) -> str:
            i = index.get(key)
            return raw[i].strip() if i is not None and i < len(raw) else ""

        def bad(key: str, code: str, reason: str, line: int = line) -> None:
            problems.append(Problem(line, HEADER_OF.get(key, key), reason, code))

        id_number = cell("id_number").upper()
        phone = re.sub(r"[\s-]", "", cell("phone"))
        if id_number and not id_number_ok(id_number):
            bad("id_number", "bad_id_number", _("This is not a valid ID number."))
        if phone and not _PHONE.fullmatch(phone):
            bad("phone", "bad_phone", _("A mobile number has 11 digits and starts with 1."))
        if not id_number and not phone:
            bad("id_number", "required", _("Give the ID number or the mobile number."))
        tested_on = _date(cell("tested_on"))
        if not cell("tested_on"):
            bad("tested_on", "required", _("This field is required."))
        elif tested_on is None:
            bad("tested_on", "bad_date", _('Write a date like "2026-05-20".'))
        elif tested_on > today:
            bad("tested_on", "future_date", _("The test day lies in the future."))
        from_id = id_number_ok(id_number)
        sex_text = cell("sex")
        sex = {"男": "M", "女": "F", "M": "M", "F": "F"}.get(sex_text.upper() if sex_text.isascii()
                                                            else sex_text, "")
        if sex_text and not sex:
            bad("sex", "bad_sex", _('Write 男 or 女.'))
        id_sex = ("M" if int(id_number[16]) % 2 else "F") if from_id else ""
        if sex and id_sex and sex != id_sex:
            bad("sex", "sex_mismatch", _("The sex differs from the ID number's."))
        sex = sex or id_sex
        if not sex and not sex_text:
            bad("sex", "required", _("Give the sex (or a valid ID number)."))
        birth = _date(cell("birth_date")) if cell("birth_date") else None
        if cell("birth_date") and birth is None:
            bad("birth_date", "bad_date", _('Write a date like "2026-05-20".'))
        if birth is None and from_id:
            birth = _date(id_number[6:14])
        age: int | None = None
        if birth is not None and tested_on is not None:
            age = _age_on(birth, tested_on)
        elif cell("age"):
            if cell("age").isdigit() and int(cell("age")) <= 120:
                age = int(cell("age"))
            else:
                bad("age", "bad_number", _("Write the age in whole years."))
        elif tested_on is not None and not cell("birth_date") and not id_number:
            bad("birth_date", "required", _("Give the birth date, the age or a valid ID number."))
        values: dict[str, Decimal] = {}
        for key in ITEM_COLUMNS:
            text = cell(key)
            if not text:
                continue
            value = _number(text)
            low, high = PLAUSIBLE[key]
            if value is None:
                bad(key, "bad_number", _("Write a number."))
            elif not low <= value <= high:
                bad(key, "out_of_range", _("The value must lie between %(low)s and %(high)s.")
                    % {"low": low, "high": high})
            else:
                values[key] = value
        scored = None
        if age is not None and sex:
            scored = scoring.score(edition=edition, sex=sex, age=age, values=values)
            if scored is None:
                bad("age", "age_out_of_range",
                    _("No age group of this standard covers age %(age)d.") % {"age": age})
        key = (crypto.keyed_hash(id_number, purpose=ID_PURPOSE) if from_id
               else crypto.keyed_hash(phone) if phone else "")
        if key and tested_on is not None:
            if (key, tested_on) in seen:
                bad("id_number", "duplicate_row", _("Same person and day as row %(row)d.")
                    % {"row": seen[(key, tested_on)]})
            else:
                seen[(key, tested_on)] = line
        if len(problems) == before and scored is not None and tested_on is not None \
                and age is not None:
            rows.append(Row(line, key, cell("name")[:40], id_number, phone, sex, age, tested_on,
                            values, scored))
    return rows, problems


# --- loading ----------------------------------------------------------------------------------

def station_in_scope(access: Access, station_id: int) -> TestStation:
    station = (access.scope(TestStation.objects.select_related("region"), Perm.FITNESS_MANAGE)
               .filter(pk=station_id, is_active=True).first())
    if station is None:
        raise NotFound(_("No such test station in your scope."), code="station_not_found")
    return station


def _stored_values(test: FitnessTest) -> dict[str, Decimal]:
    return {i.item: i.value.normalize() for i in test.items.all() if i.item not in
            scoring.DERIVED}


def import_tests(*, access: Access, station_id: int, edition: str, content: bytes,
                 request: Any = None) -> ImportReport:
    """Check a station's file and load it in one transaction: a (person, day) not seen at the
    station creates a record, a known one with other values is re-scored in place, one with
    the same values is left alone. Raises FitnessFileError listing every bad row when any row
    is bad: nothing is written then. The actor needs FITNESS_MANAGE on the station's region.
    One audit entry for the import."""
    access.require_anywhere(Perm.FITNESS_MANAGE)
    station = station_in_scope(access, station_id)
    if edition not in Edition.values:
        raise InvalidInput(_("Unknown standard edition."), code="unknown_edition",
                           fields={"edition": [_("Unknown standard edition.")]})
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 10 MB."), code="file_too_large")
    rows, problems = validate(read_table(content), edition=edition)
    if problems:
        raise FitnessFileError(problems)
    is_demo = scoring.table(edition).is_demonstration
    User = get_user_model()
    phones = {crypto.keyed_hash(r.phone) for r in rows if r.phone}
    users = dict(User.objects.filter(phone_hash__in=phones, is_active=True)
                 .values_list("phone_hash", "pk")) if phones else {}
    known_users = dict(FitnessTest.objects.filter(
        person_key__in={r.person_key for r in rows}, user__isnull=False)
        .values_list("person_key", "user_id"))
    try:
        return _load(access, station, edition, rows, is_demo, users, known_users, request)
    except IntegrityError:
        # Another import of the same rows committed first: nothing of this one was written.
        raise Conflict(_("Another import of these rows ran at the same time; import again."),
                       code="import_conflict") from None


def _load(access: Access, station: TestStation, edition: str, rows: list[Row], is_demo: bool,
          users: dict[str, int], known_users: dict[str, int], request: Any) -> ImportReport:
    report = ImportReport(rows=len(rows))
    with transaction.atomic():
        existing = {(t.person_key, t.tested_on): t for t in FitnessTest.objects
                    .filter(station=station, person_key__in={r.person_key for r in rows})
                    .prefetch_related("items").select_for_update(of=("self",))}
        for row in rows:
            user_id = (users.get(crypto.keyed_hash(row.phone)) if row.phone else None) \
                or known_users.get(row.person_key)
            report.linked += user_id is not None
            test = existing.get((row.person_key, row.tested_on))
            fields = _fields(row, station, edition, user_id, is_demo)
            if test is None:
                test = FitnessTest.objects.create(**fields)
                report.created += 1
            else:
                same = (_stored_values(test) == {k: v.normalize() for k, v in row.values.items()}
                        and all(getattr(test, k) == fields[k] for k in
                                ("sex", "age", "edition", "user_id")))
                if same:
                    report.unchanged += 1
                    report.test_ids.append(test.pk)
                    continue
                for k, v in fields.items():
                    setattr(test, k, v)
                test.save()
                test.items.all().delete()
                report.updated += 1
            ItemResult.objects.bulk_create(_items(test, row))
            report.test_ids.append(test.pk)
        if report.created or report.updated:
            audit.record(actor=access.user, action="fitness.import", obj=station,
                         region=station.region, request=request,
                         data={**report.as_dict(), "edition": edition})
    return report


def _fields(row: Row, station: TestStation, edition: str, user_id: int | None,
            is_demo: bool) -> dict[str, Any]:
    return {
        "station": station, "region_id": station.region_id, "user_id": user_id,
        "person_key": row.person_key,
        "name_encrypted": crypto.encrypt(row.name) if row.name else "",
        "id_number_encrypted": crypto.encrypt(row.id_number) if row.id_number else "",
        "phone_encrypted": crypto.encrypt(row.phone) if row.phone else "",
        "sex": row.sex, "age": row.age, "tested_on": row.tested_on, "edition": edition,
        "age_group": row.scored.group, "total": row.scored.total, "grade": row.scored.grade,
        "no_grade": row.scored.no_grade, "is_demonstration": is_demo,
    }


def _items(test: FitnessTest, row: Row) -> list[ItemResult]:
    values = scoring.with_derived(row.values)
    out = []
    for item, value in values.items():
        if item in scoring.DERIVED and item not in row.scored.points:
            continue
        out.append(ItemResult(test=test, item=item, value=value,
                              points=row.scored.points.get(item)))
    return out
