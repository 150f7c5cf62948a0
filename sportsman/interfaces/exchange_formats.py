"""The file formats of bulk exchange (docs/exchange.md): one declarative column schema per kind —
its key, its Chinese header (what files carry by default) and English header (also accepted on
import), whether it is required, how a cell is parsed and checked — and each kind's natural key,
the column a re-import matches on so that it updates rather than duplicates.

Parsing is pure (no database): a cell becomes a value or a ``CellError`` with a stable code.
What needs the database (regions, sports, existing rows, the domain's own rules) is checked by
``interfaces.exchange`` through the domain services. Facilities keep the register format of
``facilities.imports`` (the one facility parser): their schema here is its column list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.associations.models import AssociationKind, LegalStatus
from sportsman.facilities.imports import COLUMNS as FACILITY_COLUMNS
from sportsman.facilities.imports import REQUIRED as FACILITY_REQUIRED
from sportsman.facilities.imports import _choice_aliases
from sportsman.instructors.models import InstructorLevel
from sportsman.interfaces.models import ExchangeKind
from sportsman.regions.access import Perm


class CellError(Exception):
    """A cell that does not parse: a stable ``code`` and a translated message."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = str(message)


Parse = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    key: str
    zh: str  # the header written on export
    en: str  # an English header, accepted on import
    parse: Parse
    required: bool = False
    # Left out of the comparison and the update of an existing row (shown only, e.g. a
    # masked phone number).
    export_only: bool = False


@dataclass(frozen=True)
class Kind:
    key: str
    label: Any
    columns: tuple[Column, ...]
    natural_key: str  # a column key
    perm: Perm  # the domain's permission each row needs besides EXCHANGE_MANAGE
    importable: bool = True
    by_header: dict[str, Column] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for c in self.columns:
            self.by_header[c.zh] = c
            self.by_header[c.en.lower()] = c
            self.by_header[c.key] = c

    def column(self, header: str) -> Column | None:
        name = header.strip().lstrip("\ufeff")
        return self.by_header.get(name) or self.by_header.get(name.lower())

    @property
    def headers(self) -> list[str]:
        return [c.zh for c in self.columns]


# --- cell parsers ------------------------------------------------------------------------------

def text(max_length: int) -> Parse:
    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise CellError("too_long", _("At most %(n)d characters.") % {"n": max_length})
        return raw
    return parse


def integer(low: int, high: int) -> Parse:
    def parse(raw: str) -> int | None:
        if raw == "":
            return None
        if not re.fullmatch(r"-?\d+", raw) or not low <= int(raw) <= high:
            raise CellError("invalid_number", _("A whole number from %(low)d to %(high)d.")
                            % {"low": low, "high": high})
        return int(raw)
    return parse


def date(raw: str) -> dt.date | None:
    if raw == "":
        return None
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s+00:00(?::00)?)?", raw)
    try:
        if m is None:
            raise ValueError(raw)
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise CellError("invalid_date", _('Write a date like "2026-10-01".')) from None


def local_datetime(raw: str) -> dt.datetime | None:
    """"2026-10-01 09:00" in the platform's time zone (Asia/Shanghai) → an aware datetime."""
    if raw == "":
        return None
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2})[:：](\d{2})(?::(\d{2}))?",
                     raw)
    try:
        if m is None:
            raise ValueError(raw)
        y, mo, d, h, mi, sec = (int(g) if g is not None else 0 for g in m.groups())
        naive = dt.datetime(y, mo, d, h, mi, sec)
    except ValueError:
        raise CellError("invalid_datetime", _('Write a date and time like "2026-10-01 09:00".')
                        ) from None
    return timezone.make_aware(naive, timezone.get_default_timezone())


def choice(choices: Any) -> Parse:
    aliases = _choice_aliases(choices)

    def parse(raw: str) -> str:
        if raw == "":
            return ""
        if raw not in aliases:
            raise CellError("invalid_choice", _("Use one of: %(values)s")
                            % {"values": ", ".join(choices.values)})
        return aliases[raw]
    return parse


def region_code(raw: str) -> str:
    if raw and not re.fullmatch(r"\d{12}", raw):
        raise CellError("invalid_region_code", _("A region code has 12 digits."))
    return raw


def names(raw: str) -> list[str]:
    """"足球、篮球" / "football,basketball" → the names in order (sports are resolved later)."""
    return [s.strip() for s in re.split(r"[,，、;；]", raw) if s.strip()]


def phone(raw: str) -> str:
    """An 11-digit mainland number, or a masked one as an export writes it (kept as is: it
    only matches an existing row)."""
    value = re.sub(r"[\s-]", "", raw)
    if value.startswith("+86"):
        value = value[3:]
    if value and not re.fullmatch(r"1\d{10}|1\d{2}\*{4}\d{4}", value):
        raise CellError("invalid_phone", _("Enter an 11-digit mainland mobile number."))
    return value


def key_text(max_length: int) -> Parse:
    """A natural key: text without spaces around it, upper-cased (credit codes, certificate
    numbers are written either way)."""
    inner = text(max_length)

    def parse(raw: str) -> str:
        return inner(raw.upper())
    return parse


# --- the kinds ---------------------------------------------------------------------------------

def _facility_columns() -> tuple[Column, ...]:
    en = {"name": "Name", "category": "Category", "owner_kind": "Owner",
          "region_code": "Community code", "address": "Address", "lat": "Latitude",
          "lng": "Longitude", "sports": "Sports", "capacity": "Capacity", "hours": "Hours",
          "exceptions": "Exceptions", "units": "Units", "slot_minutes": "Slot minutes",
          "price": "Price", "contact_name": "Contact", "contact_phone": "Contact phone",
          "holiday_hours": "Holiday hours", "external_ref": "External reference",
          "description": "Description"}
    return tuple(Column(key, zh, en[key], str, required=key in FACILITY_REQUIRED)
                 for zh, key in FACILITY_COLUMNS)


FACILITIES = Kind(
    ExchangeKind.FACILITIES, gettext_lazy("Facilities"), _facility_columns(),
    natural_key="external_ref", perm=Perm.FACILITY_MANAGE)

ASSOCIATIONS = Kind(ExchangeKind.ASSOCIATIONS, gettext_lazy("Associations"), (
    Column("credit_code", "统一社会信用代码", "Credit code", key_text(32), required=True),
    Column("name", "名称", "Name", text(80), required=True),
    Column("kind", "类型", "Kind", choice(AssociationKind), required=True),
    Column("legal_status", "登记状态", "Legal status", choice(LegalStatus)),
    Column("region_code", "所属区域代码", "Region code", region_code, required=True),
    Column("sport", "运动项目", "Sport", text(40)),
    Column("founded_on", "成立日期", "Founded on", date),
    Column("address", "地址", "Address", text(120)),
    Column("contact_name", "联系人", "Contact", text(30)),
    Column("contact_phone", "联系电话", "Contact phone", text(20)),
), natural_key="credit_code", perm=Perm.ASSOCIATION_MANAGE)

INSTRUCTORS = Kind(ExchangeKind.INSTRUCTORS, gettext_lazy("Instructors"), (
    Column("certificate_number", "证书编号", "Certificate number", key_text(40), required=True),
    Column("name", "姓名", "Name", text(30), required=True),
    Column("level", "等级", "Level", choice(InstructorLevel), required=True),
    Column("region_code", "所属区域代码", "Region code", region_code, required=True),
    Column("sports", "运动项目", "Sports", names),
    Column("certified_on", "发证日期", "Certified on", date),
    # The resident's account the instructor is: needed to register a new one, masked on export.
    Column("phone", "手机号", "Phone", phone, export_only=True),
), natural_key="certificate_number", perm=Perm.INSTRUCTOR_MANAGE)

EVENTS = Kind(ExchangeKind.EVENTS, gettext_lazy("Events"), (
    Column("id", "活动编号", "Event id", integer(1, 2**63 - 1)),
    Column("title", "标题", "Title", text(100), required=True),
    Column("region_code", "所属区域代码", "Region code", region_code, required=True),
    Column("starts_at", "开始时间", "Starts", local_datetime, required=True),
    Column("ends_at", "结束时间", "Ends", local_datetime, required=True),
    Column("registration_opens_at", "报名开始", "Registration opens", local_datetime,
           required=True),
    Column("registration_closes_at", "报名截止", "Registration closes", local_datetime,
           required=True),
    Column("capacity", "名额", "Places", integer(1, 100_000), required=True),
    Column("place", "地点", "Place", text(200)),
    Column("organiser_name", "主办方", "Organiser", text(100)),
    Column("sport", "运动项目", "Sport", text(40)),
    Column("description", "简介", "Description", text(5000)),
), natural_key="id", perm=Perm.EVENT_MANAGE)

# Residents leave only with their consent (accounts.Consent, purpose "sharing", the latest
# answer granted), and only these fields: no phone number, no real name, no activity.
RESIDENTS = Kind(ExchangeKind.RESIDENTS, gettext_lazy("Residents"), (
    Column("id", "用户编号", "Resident id", integer(1, 2**63 - 1)),
    Column("nickname", "昵称", "Nickname", text(32)),
    Column("region_code", "所属社区代码", "Community code", region_code),
    Column("sex", "性别", "Sex", text(1)),
    Column("birth_year", "出生年份", "Birth year", integer(1900, 2100)),
    Column("interests", "运动兴趣", "Interests", names),
), natural_key="id", perm=Perm.EXCHANGE_MANAGE, importable=False)

KINDS: dict[str, Kind] = {k.key: k for k in (FACILITIES, ASSOCIATIONS, INSTRUCTORS, EVENTS,
                                            RESIDENTS)}


def export_cell(value: Any) -> Any:
    """A value as an export writes it: dates ISO, datetimes local "YYYY-MM-DD HH:MM" text (so
    a spreadsheet keeps the time), lists joined with "、", None empty."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value)
        return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return value
