"""Bulk import of facilities from a register file (xlsx, or csv in UTF-8 with or without BOM, or
GB18030), one facility per row under a header row.

The file is checked completely before anything is written: every bad row is reported with its
row number (as a spreadsheet shows it: the header is row 1), the column and a translated reason,
and nothing is loaded. A good file loads in one transaction. Rows are matched on 外部编号
(``external_ref``): importing the same file again updates in place and, when nothing differs,
writes nothing at all. An optional column the file does not have leaves that part of existing
facilities alone (a list of names and addresses does not wipe the hours set in the console); a
column that is there but empty in a row means "none" (an exported file imports back unchanged).

Columns (header names; * = required)::

    名称*  类别*  权属  所属社区代码*  地址*  纬度*  经度*  运动项目  容量  开放时间  特殊日期
    开放单元  单元时长  价格  联系人  联系电话  假日开放  外部编号*  简介

- 类别 / 权属 / 假日开放: the code (``multi_court``, ``school``, ``weekend``) or the Chinese
  name (多功能运动场, 学校, 照常 / 按周日 / 闭馆 …).
- 所属社区代码: the community's 12-digit statistical code; it must be in the importer's scope.
- 纬度 / 经度: WGS-84 decimal degrees (as GPS gives them, not GCJ-02).
- 运动项目: sports by Chinese name or slug, separated by "," "，" or "、".
- 开放时间: periods separated by ";", each a day range and one or more times, e.g.
  ``周一至周五 17:30-21:00; 周六至周日 06:00-21:00`` or ``每天 06:00-22:00``.
- 特殊日期 (exceptions), separated by ";": ``2026-10-01 至 2026-10-03 闭馆`` or
  ``2026-07-05 至 2026-08-31 06:00-21:00``.
- 开放单元: bookable units, e.g. ``1号场,2号场``; 单元时长 their slot minutes (15–480,
  default 60); 价格 the price per slot in yuan (0 or empty: free).

School grounds open to the public (学校体育场地开放): list the hours outside school time on
school days (``周一至周五 06:00-07:30,17:30-21:00; 周六至周日 06:00-21:00``) and put the school
holidays in 特殊日期 with their own hours (``2026-07-05 至 2026-08-31 06:00-21:00``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from sportsman.core.audit import record
from sportsman.core.errors import BadFile, InvalidInput, RowProblem
from sportsman.facilities import registry
from sportsman.facilities.models import (
    Category,
    Facility,
    HolidayHours,
    OpeningException,
    OpeningRule,
    OwnerKind,
    Unit,
)
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Level, Region

FIRST_DATA_ROW = 2
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024

# header → field, in the order an export writes them
COLUMNS: list[tuple[str, str]] = [
    ("名称", "name"), ("类别", "category"), ("权属", "owner_kind"),
    ("所属社区代码", "region_code"), ("地址", "address"), ("纬度", "lat"), ("经度", "lng"),
    ("运动项目", "sports"), ("容量", "capacity"), ("开放时间", "hours"),
    ("特殊日期", "exceptions"), ("开放单元", "units"), ("单元时长", "slot_minutes"),
    ("价格", "price"), ("联系人", "contact_name"), ("联系电话", "contact_phone"),
    ("假日开放", "holiday_hours"), ("外部编号", "external_ref"), ("简介", "description"),
]
HEADER_OF = {f: h for h, f in COLUMNS}
FIELD_OF = {h: f for h, f in COLUMNS}
REQUIRED = ("name", "category", "region_code", "address", "lat", "lng", "external_ref")

# Chinese names registers use, beside the codes and the labels' own Chinese.
OWNER_ZH = {"学校": OwnerKind.SCHOOL, "社区": OwnerKind.COMMUNITY, "村": OwnerKind.COMMUNITY,
            "公园": OwnerKind.PARK, "体育局": OwnerKind.SPORTS_BUREAU,
            "体育部门": OwnerKind.SPORTS_BUREAU, "文化礼堂": OwnerKind.CULTURAL_HALL,
            "养老中心": OwnerKind.ELDERLY_CENTRE, "居家养老服务中心": OwnerKind.ELDERLY_CENTRE,
            "企业": OwnerKind.ENTERPRISE}
CATEGORY_ZH = {"足球场": Category.FOOTBALL, "多功能运动场": Category.MULTI_COURT,
               "健身路径": Category.FITNESS_PATH, "百姓健身房": Category.COMMUNITY_GYM,
               "健身步道": Category.TRAIL, "绿道": Category.TRAIL, "门球场": Category.GATEBALL,
               "健身驿站": Category.STATION, "养老中心活动室": Category.ELDERLY_CENTRE}
HOLIDAY_ZH = {"照常": HolidayHours.NORMAL, "正常": HolidayHours.NORMAL,
              "按周日": HolidayHours.WEEKEND, "同周日": HolidayHours.WEEKEND,
              "闭馆": HolidayHours.CLOSED, "关闭": HolidayHours.CLOSED}

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY = r"(?:周|星期|礼拜)([一二三四五六日天七])"
_RANGE_SEP = r"\s*(?:至|到|-|—|–|~|～)\s*"
_TIME_RANGE = re.compile(r"(\d{1,2}[:：]\d{2})\s*(?:-|—|–|~|～|至|到)\s*(\d{1,2}[:：]\d{2})")
_DATE = r"(\d{4}-\d{1,2}-\d{1,2})"


class FacilityFileError(BadFile):
    """A register file with bad rows. ``problems`` lists every one; nothing was loaded."""

    code = "facility_file_invalid"


@dataclass
class Row:
    line: int
    ref: str
    values: dict[str, Any]  # registry facility fields
    rules: list[tuple[int, dt.time, dt.time]]
    exceptions: list[dict[str, Any]]
    units: list[str]
    slot_minutes: int
    price_cents: int
    # Columns the file has: a missing optional column leaves that part of a facility alone.
    has_hours: bool
    has_exceptions: bool
    has_units: bool


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = True
    refs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "dry_run": self.dry_run}


# --- reading the file -------------------------------------------------------------------------

def read_table(content: bytes) -> list[list[str]]:
    """The file's rows as text cells: xlsx (a zip) by its signature, else csv in UTF-8 (BOM or
    not) or GB18030."""
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 10 MB."), code="file_too_large")
    if content[:2] == b"PK":
        return _read_xlsx(content)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise InvalidInput(_("The file is neither UTF-8 nor GB18030 text."), code="bad_encoding")
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(_("The spreadsheet cannot be read."), code="bad_file") from exc
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append([_cell_text(v) for v in row])
    book.close()
    return rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value).strip()


# --- parsing cells ----------------------------------------------------------------------------

def _choice_aliases(choices: Any) -> dict[str, str]:
    """Code, English label, Chinese label and the Chinese name in the label's brackets."""
    out: dict[str, str] = {}
    for value, label in choices.choices:
        out[value] = value
        out[str(label)] = value
        inner = re.search(r"[（(]([^()（）]+)[)）]", str(label))
        if inner:
            out[inner.group(1)] = value
        with translation.override("zh-hans"):
            zh = str(label)
        out[zh] = value
        inner = re.search(r"[（(]([^()（）]+)[)）]", zh)
        if inner:
            out[inner.group(1)] = value
    return out


def parse_hours(text: str) -> list[tuple[int, dt.time, dt.time]] | None:
    """"周一至周五 17:30-21:00; 周六至周日 06:00-21:00" → weekly rules; None if unreadable."""
    rules: list[tuple[int, dt.time, dt.time]] = []
    for part in re.split(r"[;；\n]", text):
        part = part.strip()
        if not part:
            continue
        times = _TIME_RANGE.findall(part)
        head = _TIME_RANGE.sub("", part).strip(" ,，、")
        if not times:
            return None
        days: list[int] = []
        if head in ("每天", "每日", "全周", "周一至周日", "周一到周日"):
            days = list(range(7))
        else:
            for chunk in re.split(r"[,，、\s]+", head):
                if not chunk:
                    continue
                span = re.fullmatch(_DAY + _RANGE_SEP + _DAY, chunk)
                one = re.fullmatch(_DAY, chunk)
                if span:
                    a, b = WEEKDAYS[span.group(1)], WEEKDAYS[span.group(2)]
                    if b < a:
                        return None
                    days += list(range(a, b + 1))
                elif one:
                    days.append(WEEKDAYS[one.group(1)])
                else:
                    return None
        if not days:
            return None
        for opens_raw, closes_raw in times:
            opens, closes = registry.parse_time(opens_raw), registry.parse_time(closes_raw)
            if opens is None or closes is None:
                return None
            rules += [(d, opens, closes) for d in days]
    return rules


def parse_exceptions(text: str) -> list[dict[str, Any]] | None:
    """"2026-10-01 至 2026-10-03 闭馆; 2026-07-05 至 2026-08-31 06:00-21:00" → exceptions."""
    out: list[dict[str, Any]] = []
    for part in re.split(r"[;；\n]", text):
        part = part.strip()
        if not part:
            continue
        m = re.match(_DATE + r"(?:" + _RANGE_SEP + _DATE + r")?\s*(.*)$", part)
        if not m:
            return None
        try:
            start = dt.date.fromisoformat(_iso(m.group(1)))
            end = dt.date.fromisoformat(_iso(m.group(2) or m.group(1)))
        except ValueError:
            return None
        rest = m.group(3).strip()
        if rest in ("闭馆", "关闭", "不开放", "closed"):
            out.append({"start_date": start, "end_date": end, "is_closed": True})
            continue
        t = _TIME_RANGE.fullmatch(rest.split()[0]) if rest else None
        if not t:
            return None
        out.append({"start_date": start, "end_date": end, "is_closed": False,
                    "opens": t.group(1), "closes": t.group(2),
                    "reason": rest[len(rest.split()[0]):].strip()[:100]})
    return out


def _iso(text: str) -> str:
    y, m, d = text.split("-")
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def _price_cents(text: str) -> int | None:
    if text in ("", "免费", "free"):
        return 0
    try:
        yuan = Decimal(text.replace("元", "").replace("¥", "").strip())
    except InvalidOperation:
        return None
    if yuan < 0 or yuan > 100_000 or (yuan * 100) != (yuan * 100).to_integral_value():
        return None
    return int(yuan * 100)


# --- validation -------------------------------------------------------------------------------

def _header_map(header: list[str], problems: list[RowProblem]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        name = name.strip().lstrip("\ufeff")
        if not name:
            continue
        key = FIELD_OF.get(name)
        if key is None:
            problems.append(RowProblem(1, name, _("Unknown column.")))
        elif key in index:
            problems.append(RowProblem(1, name, _("The column appears twice.")))
        else:
            index[key] = i
    for key in REQUIRED:
        if key not in index:
            problems.append(RowProblem(1, HEADER_OF[key], _("The required column is missing.")))
    return index


def _communities(access: Access, codes: set[str]) -> dict[str, Region]:
    """Communities by code inside the actor's scope; the newest edition wins."""
    found: dict[str, Region] = {}
    qs = (access.regions(Perm.FACILITY_MANAGE)
          .filter(code__in=codes, level=Level.COMMUNITY).order_by("code", "edition"))
    for region in qs:
        found[region.code] = region
    return found


def validate(access: Access, table: list[list[str]]) -> tuple[list[Row], list[RowProblem]]:
    """Every row checked: the parsed rows and every problem found (row, column, reason)."""
    problems: list[RowProblem] = []
    if not table or not any(table[0]):
        return [], [RowProblem(1, "", _("The file has no header row."))]
    index = _header_map(table[0], problems)
    if problems:
        return [], problems
    body = [(FIRST_DATA_ROW + i, r) for i, r in enumerate(table[1:]) if any(c for c in r)]
    if not body:
        return [], [RowProblem(FIRST_DATA_ROW, "", _("The file has no data rows."))]
    if len(body) > MAX_ROWS:
        return [], [RowProblem(FIRST_DATA_ROW, "",
                            _("At most %(n)d rows per file.") % {"n": MAX_ROWS})]

    def cell(raw: list[str], key: str) -> str:
        i = index.get(key)
        return raw[i].strip() if i is not None and i < len(raw) else ""

    categories = {**_choice_aliases(Category), **CATEGORY_ZH}
    owners = {**_choice_aliases(OwnerKind), **OWNER_ZH}
    holiday = {**_choice_aliases(HolidayHours), **HOLIDAY_ZH}
    regions = _communities(access, {cell(r, "region_code") for _n, r in body})
    existing = {f.external_ref: f for f in Facility.objects.filter(
        external_ref__in={cell(r, "external_ref") for _n, r in body}).select_related("region")}
    sports_wanted: set[str] = set()
    for _n, raw in body:
        sports_wanted |= {s.strip() for s in re.split(r"[,，、]", cell(raw, "sports"))
                          if s.strip()}
    _found, unknown_sports = registry.sports_by_key(sorted(sports_wanted))

    rows: list[Row] = []
    seen_refs: dict[str, int] = {}
    for line, raw in body:
        before = len(problems)

        def bad(key: str, reason: str, line: int = line) -> None:
            problems.append(RowProblem(line, HEADER_OF[key], reason))

        for key in REQUIRED:
            if not cell(raw, key):
                bad(key, _("This field is required."))
        ref = cell(raw, "external_ref")
        if ref in seen_refs:
            bad("external_ref", _("Same reference as row %(row)d.") % {"row": seen_refs[ref]})
        elif ref:
            seen_refs[ref] = line
        data: dict[str, Any] = {}
        is_new = ref not in existing
        for key in ("name", "address", "contact_name", "contact_phone", "description",
                    "external_ref", "lat", "lng", "capacity"):
            if key not in index:
                continue  # an optional column the file does not have: left as it is
            value = cell(raw, key)
            if value or key not in REQUIRED:
                if key == "capacity" and not value:
                    value = "0"
                data[key] = value
        category = cell(raw, "category")
        if category:
            if category in categories:
                data["category"] = categories[category]
            else:
                bad("category", _("Unknown category."))
        owner = cell(raw, "owner_kind")
        if owner and owner not in owners:
            bad("owner_kind", _("Unknown owner."))
        if "owner_kind" in index or is_new:
            data["owner_kind"] = owners.get(owner, OwnerKind.COMMUNITY)
        hh = cell(raw, "holiday_hours")
        if hh and hh not in holiday:
            bad("holiday_hours", _("Unknown holiday rule."))
        if "holiday_hours" in index or is_new:
            data["holiday_hours"] = holiday.get(hh, HolidayHours.WEEKEND)
        code = cell(raw, "region_code")
        if code:
            if not re.fullmatch(r"\d{12}", code):
                bad("region_code", _("A community code has 12 digits."))
            elif code not in regions:
                bad("region_code", _("No community with this code in your scope."))
            else:
                data["region"] = regions[code]
        sports = [s.strip() for s in re.split(r"[,，、]", cell(raw, "sports")) if s.strip()]
        missing = [s for s in sports if s in unknown_sports]
        if missing:
            bad("sports", _("Unknown sports: %(names)s") % {"names": ", ".join(missing)})
        if "sports" in index:
            data["sports"] = sports
        if ref in existing and not access.can(Perm.FACILITY_MANAGE, existing[ref].region):
            bad("external_ref", _("This reference belongs to a facility outside your scope."))
        # the registry's own field rules, mapped back to this row's columns
        try:
            values = registry.clean_facility_fields(
                access, {k: v for k, v in data.items() if k != "region"}, partial=True)
            if "region" in data:
                values["region"] = data["region"]
        except InvalidInput as exc:
            for key, messages in exc.fields.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    if key == "sports":
                        continue  # already reported with the names
                    bad(key if key in HEADER_OF else "name", str(message))
            values = {}
        hours_text = cell(raw, "hours")
        rules: list[tuple[int, dt.time, dt.time]] = []
        if hours_text:
            parsed = parse_hours(hours_text)
            if parsed is None:
                bad("hours", _('Write hours like "周一至周五 17:30-21:00; 周六至周日 06:00-21:00".'))
            else:
                try:
                    rules = registry.clean_opening_rules(
                        [{"weekday": w, "opens": o, "closes": c} for w, o, c in parsed])
                except InvalidInput:
                    bad("hours", _("Closing must be after opening, without overlapping periods."))
        exceptions: list[dict[str, Any]] = []
        exc_text = cell(raw, "exceptions")
        if exc_text:
            parsed_exc = parse_exceptions(exc_text)
            if parsed_exc is None:
                bad("exceptions", _('Write dates like "2026-10-01 至 2026-10-03 闭馆".'))
            else:
                try:
                    exceptions = [registry.clean_exception(e) for e in parsed_exc]
                except InvalidInput:
                    bad("exceptions", _("Closing must be after opening and the end date after "
                                        "the start date."))
                spans = sorted((e["start_date"], e["end_date"]) for e in exceptions)
                if any(b[0] <= a[1] for a, b in itertools.pairwise(spans)):
                    bad("exceptions", _("These dates overlap another exception."))
        units = [u.strip() for u in re.split(r"[,，、]", cell(raw, "units")) if u.strip()]
        if len(set(units)) != len(units) or any(len(u) > 50 for u in units):
            bad("units", _("Unit names must be different and at most 50 characters."))
        slot_text = cell(raw, "slot_minutes") or "60"
        slot_minutes = 60
        if not slot_text.isdigit() or not (registry.SLOT_MINUTES_MIN <= int(slot_text)
                                           <= registry.SLOT_MINUTES_MAX):
            bad("slot_minutes", _("A slot lasts 15 to 480 minutes."))
        else:
            slot_minutes = int(slot_text)
        price = _price_cents(cell(raw, "price"))
        if price is None:
            bad("price", _("Write the price in yuan, e.g. 20 or 12.50."))
        if len(problems) == before:
            rows.append(Row(line, ref, values, rules, exceptions, units, slot_minutes,
                            price or 0, has_hours="hours" in index,
                            has_exceptions="exceptions" in index, has_units="units" in index))
    return rows, problems


# --- loading ----------------------------------------------------------------------------------

def import_facilities(*, actor: Any, content: bytes, dry_run: bool = False,
                      request: Any = None) -> ImportReport:
    """Check a register file and, unless ``dry_run``, load it in one transaction: a new
    外部编号 creates a facility, a known one updates it in place (hours, exceptions and units
    replaced by the file's; units missing from the file are deactivated). Raises
    FacilityFileError listing every bad row when any row is bad: nothing is written then. The
    actor needs FACILITY_MANAGE on every row's community. One audit entry per changed facility
    and one for the import."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.FACILITY_MANAGE)
    rows, problems = validate(access, read_table(content))
    if problems:
        raise FacilityFileError(problems)
    report = ImportReport(rows=len(rows), dry_run=dry_run)
    existing = {f.external_ref: f for f in Facility.objects.filter(
        external_ref__in=[r.ref for r in rows])}
    if dry_run:
        report.created = sum(1 for r in rows if r.ref not in existing)
        report.updated = len(rows) - report.created
        return report
    with transaction.atomic():
        for row in rows:
            facility = existing.get(row.ref)
            if facility is None:
                facility = _create(row)
                report.created += 1
                action = "facility.import.create"
            else:
                if not _update(facility, row):
                    report.unchanged += 1
                    continue
                report.updated += 1
                action = "facility.import.update"
            record(actor=actor, action=action, obj=facility, region=row.values["region"],
                   request=request, data={"row": row.line, "external_ref": row.ref})
        if report.created or report.updated:
            record(actor=actor, action="facility.import", object_type="facilities.facility",
                   region=access.root_regions(Perm.FACILITY_MANAGE).first(), request=request,
                   data=report.as_dict())
    return report


def _create(row: Row) -> Facility:
    facility = Facility(**{k: v for k, v in row.values.items() if k != "sports"})
    facility.save()
    facility.sports.set(_sports(row))
    OpeningRule.objects.bulk_create([OpeningRule(facility=facility, weekday=w, opens=o,
                                                 closes=c) for w, o, c in row.rules])
    OpeningException.objects.bulk_create([OpeningException(facility=facility, **e)
                                          for e in row.exceptions])
    Unit.objects.bulk_create([Unit(facility=facility, name=name, capacity=1,
                                   slot_minutes=row.slot_minutes, price_cents=row.price_cents,
                                   position=i) for i, name in enumerate(row.units)])
    registry.sync_unit_flags(facility.pk)
    return facility


def _sports(row: Row) -> list[Any]:
    return list(row.values.get("sports", []))


def _exc_key(e: Mapping[str, Any]) -> tuple:
    return (e["start_date"], e["end_date"], e["is_closed"], e.get("opens"), e.get("closes"))


def _update(facility: Facility, row: Row) -> bool:
    """Bring ``facility`` in line with ``row``; False when nothing differed (nothing written)."""
    changed = registry.apply_changes(facility, {k: v for k, v in row.values.items()
                                                if k != "sports"})
    touched = bool(changed)
    if changed:
        facility.save(update_fields=[*changed, "updated_at"])
    sports = {s.pk for s in _sports(row)}
    if "sports" in row.values and sports != set(facility.sports.values_list("pk", flat=True)):
        facility.sports.set(_sports(row))
        touched = True
    current_rules = sorted(facility.opening_rules.values_list("weekday", "opens", "closes"))
    if row.has_hours and current_rules != row.rules:
        facility.opening_rules.all().delete()
        OpeningRule.objects.bulk_create([OpeningRule(facility=facility, weekday=w, opens=o,
                                                     closes=c) for w, o, c in row.rules])
        touched = True
    current_exc = sorted(_exc_key(e) for e in facility.opening_exceptions.values(
        "start_date", "end_date", "is_closed", "opens", "closes"))
    if row.has_exceptions and current_exc != sorted(_exc_key(e) for e in row.exceptions):
        facility.opening_exceptions.all().delete()
        OpeningException.objects.bulk_create([OpeningException(facility=facility, **e)
                                              for e in row.exceptions])
        touched = True
    if row.has_units:
        touched = _update_units(facility, row) or touched
    if touched:
        registry.sync_unit_flags(facility.pk)
    return touched


def _update_units(facility: Facility, row: Row) -> bool:
    """Units named in the file are created or brought in line; others are deactivated."""
    touched = False
    units = {u.name: u for u in facility.units.all()}
    for i, name in enumerate(row.units):
        unit = units.get(name)
        if unit is None:
            Unit.objects.create(facility=facility, name=name, slot_minutes=row.slot_minutes,
                                price_cents=row.price_cents, position=len(units) + i)
            touched = True
        elif (unit.slot_minutes, unit.price_cents, unit.is_active) != (
                row.slot_minutes, row.price_cents, True):
            unit.slot_minutes, unit.price_cents, unit.is_active = (
                row.slot_minutes, row.price_cents, True)
            unit.save(update_fields=["slot_minutes", "price_cents", "is_active"])
            touched = True
    for name, unit in units.items():
        if name not in row.units and unit.is_active:
            unit.is_active = False
            unit.save(update_fields=["is_active"])
            touched = True
    return touched
