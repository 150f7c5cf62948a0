"""Building station files for the fitness tests: valid ID numbers, a good row per age group,
and the file as xlsx bytes (``sportsman.core.xlsx``, as a station exports it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.core import xlsx
from sportsman.fitness.imports import _ID_CHECK, _ID_WEIGHTS
from sportsman.fitness.models import TestStation

HEADERS = ["姓名", "性别", "身份证号", "手机号", "测试日期", "身高(cm)", "体重(kg)", "肺活量",
           "台阶指数", "握力", "俯卧撑", "1分钟仰卧起坐", "纵跳", "坐位体前屈", "选择反应时",
           "闭眼单脚站立"]


def id_number(birth: dt.date, *, male: bool, serial: int = 1) -> str:
    """A valid 18-digit ID number (南湖区) for a birth date and sex."""
    seq = f"{serial % 50:02d}{(1 if male else 0) + 2 * (serial % 5)}"
    body = f"330402{birth:%Y%m%d}{seq}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def test_day() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=3)


test_day.__test__ = False  # type: ignore[attr-defined]


def row(*, name: str = "张三", age: int = 30, male: bool = True, phone: str = "",
        serial: int = 1, day: dt.date | None = None, **items: Any) -> list[Any]:
    """One person's row: a man of 30 (by default) with every 2003 adult item, good values."""
    # born on 1 January: ``age`` on the default test day, whatever day the row is for
    birth = dt.date(test_day().year - age, 1, 1)
    day = day or test_day()
    values = {"身高(cm)": 172, "体重(kg)": 66, "肺活量": 4000, "台阶指数": 55, "握力": 45,
              "俯卧撑": 20 if male else "", "1分钟仰卧起坐": "" if male else 25, "纵跳": 35,
              "坐位体前屈": 9, "选择反应时": 0.5, "闭眼单脚站立": 20}
    values.update({k.replace("_", ""): v for k, v in items.items()})
    return [name, "男" if male else "女", id_number(birth, male=male, serial=serial), phone,
            day.isoformat(), *[values[h] for h in HEADERS[5:]]]


def station_file(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    return xlsx.workbook([("体质监测", headers or HEADERS, rows)])


def make_station(region, code: str = "JX-001", name: str = "新嘉体质监测站") -> TestStation:
    return TestStation.objects.create(region=region, code=code, name=name)
