"""Division files: the real Jiaxing file loads; a broken tree is refused whole, every bad row
named; loading again adds nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from sportsman.core.errors import Conflict, InvalidInput
from sportsman.regions.models import Region
from sportsman.regions.selectors import ancestors, find_by_code
from sportsman.regions.services import RegionFileError, bulk_load_tree, create_region

pytestmark = pytest.mark.django_db

JIAXING = Path(settings.BASE_DIR) / "data" / "jiaxing_divisions_2023.csv"
HEADER = "code12,code,name,level,parent_code,town_kind_or_note\n"


def _import(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_regions", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "divisions.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_real_jiaxing_file_loads_the_whole_tree():
    _import(JIAXING)
    counts = {level: Region.objects.filter(level=level, edition=2023).count()
              for level in ("province", "city", "district", "town", "community")}
    assert counts == {"province": 1, "city": 1, "district": 7, "town": 72, "community": 5}
    garden = find_by_code("330402009034")
    assert garden.name == "花园社区" and garden.kind_note == "社区"
    assert [r.name for r in ancestors(garden)] == ["浙江省", "嘉兴市", "南湖区", "新嘉街道"]
    assert find_by_code("330402100").kind_note == "镇"
    for region in Region.objects.select_related("parent"):
        expected = (region.parent.path if region.parent else "/") + f"{region.pk}/"
        assert region.path == expected


def test_loading_the_same_file_again_adds_nothing_and_refreshes_names(tmp_path):
    _import(JIAXING)
    before = dict(Region.objects.values_list("code", "pk"))
    text = JIAXING.read_text(encoding="utf-8").replace("花园社区", "花园社区（新）")
    out, _ = _import(_write(tmp_path, text.split("\n", 1)[1]))
    assert "0 regions created" in out
    assert dict(Region.objects.values_list("code", "pk")) == before
    assert find_by_code("330402009034").name == "花园社区（新）"


BROKEN = """\
330400000000,3304,嘉兴市,city,,
330402000000,330402,南湖区,county,3304,
330402009000,330402009,新嘉街道,town,330402,街道
330402009034,330402009034,花园社区,village,330402009,居委会
330402009035,330402009035,孤儿社区,village,330402099,居委会
330402010000,330402010,南湖街道,town,3304,街道
330411009001,330411009001,错位社区,village,330402009,居委会
330402009034,330402009034,重复社区,village,330402009,居委会
330402100000,330402100,凤桥镇,town,330402,街道
330402009500,330402009500,越界社区,village,330402009,
330402011000,330402011,新兴街道,town,330402011,街道
"""


def test_broken_tree_is_refused_whole_and_every_bad_row_is_named(tmp_path):
    path = _write(tmp_path, BROKEN)
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="nothing was loaded"):
        call_command("import_regions", str(path), stderr=err)
    report = err.getvalue()
    assert not Region.objects.exists()
    expected = {
        6: "neither in the file nor in the database",  # missing parent
        7: "must sit under a district",  # bad level order
        8: "does not start with its parent's code",  # outside the parent's prefix
        9: "duplicate of row 5",  # duplicate code
        10: "range is for 镇",  # note contradicts the code range
        11: "outside 001–399",  # village part out of range
        12: "its own parent",  # a cycle of one
    }
    for row, reason in expected.items():
        assert any(line.startswith(f"{path}: row {row},") and reason in line
                   for line in report.splitlines()), (row, report)
    assert "row 2," not in report and "row 5," not in report  # good rows are not blamed


def test_broken_file_changes_nothing_already_loaded(tmp_path):
    _import(JIAXING)
    before = list(Region.objects.values_list("code", "name", "path"))
    body = ("330402009000,330402009,改名街道,town,330402,街道\n"
            "330402009036,330402009036,新社区,village,330402009,居委会\n"
            "330402009037,330402009037,坏社区,village,339999999,居委会\n")
    with pytest.raises(CommandError):
        _import(_write(tmp_path, body))
    assert list(Region.objects.values_list("code", "name", "path")) == before


def test_a_cycle_between_rows_is_reported():
    rows = [
        {"code12": "330400000000", "name": "嘉兴市", "level": "city", "parent_code": ""},
        {"code12": "330402000000", "name": "甲", "level": "county", "parent_code": "330403"},
        {"code12": "330403000000", "name": "乙", "level": "county", "parent_code": "330402"},
    ]
    with translation.override("en"), pytest.raises(RegionFileError) as caught:
        bulk_load_tree(rows, edition=2023)
    assert {(p.row, p.column) for p in caught.value.problems} == {(3, "parent_code"),
                                                                  (4, "parent_code")}
    assert caught.value.as_dict()["code"] == "region_file_invalid"


def test_rows_may_hang_under_regions_already_in_the_database():
    call_command("import_regions", str(JIAXING), stdout=io.StringIO())
    created = bulk_load_tree([{"code12": "330402009036", "name": "新社区", "level": "community",
                               "parent_code": "330402009"}], edition=2023)
    assert created == 1
    new = find_by_code("330402009036")
    assert new.parent == find_by_code("330402009000")
    assert new.path == new.parent.path + f"{new.pk}/"


def test_another_edition_is_a_separate_tree(tmp_path):
    _import(JIAXING)
    _import(JIAXING, "--edition", "2024")
    assert Region.objects.filter(code="330402009034").count() == 2
    assert find_by_code("330402009034").edition == 2024
    assert find_by_code("330402009034", edition=2023).parent.edition == 2023


def test_missing_column_is_refused(tmp_path):
    path = tmp_path / "no-parent.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["code12", "name", "level"],
                                      ["330400000000", "嘉兴市", "city"]])
    with pytest.raises(CommandError, match="parent_code"):
        _import(path)


def test_create_region_sets_the_path_and_keeps_the_rules():
    city = create_region(code="330400000000", edition=2023, name="嘉兴市", level="city")
    district = create_region(code="330402000000", edition=2023, name="南湖区", level="county",
                             parent=city)
    assert city.path == f"/{city.pk}/"
    assert district.path == f"/{city.pk}/{district.pk}/"
    assert district.level == "district"
    with pytest.raises(InvalidInput) as wrong_level:
        create_region(code="330402009000", edition=2023, name="新嘉街道", level="town",
                      parent=city)
    assert "parent_code" in wrong_level.value.fields
    with pytest.raises(InvalidInput):
        create_region(code="330499001000", edition=2023, name="外码", level="town",
                      parent=district)
    with pytest.raises(Conflict):
        create_region(code="330400000000", edition=2023, name="again", level="city")
    assert Region.objects.count() == 2
