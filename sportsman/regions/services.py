"""Writing the region tree: one region at a time, or a whole division file at once.

A division file is checked completely before anything is written: every bad row is reported
(row, column, reason) and nothing is loaded. A good file loads in one transaction, level by level,
and loading it again only refreshes names and notes. See docs/regions.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core.audit import record
from sportsman.core.errors import BadFile, Conflict, InvalidInput, RowProblem
from sportsman.regions.models import LEVEL_DEPTH, Level, Region

logger = logging.getLogger(__name__)

# Words used by division files for our levels (the national data says county and village).
LEVEL_ALIASES: dict[str, Level] = {
    "province": Level.PROVINCE,
    "city": Level.CITY,
    "county": Level.DISTRICT,
    "district": Level.DISTRICT,
    "town": Level.TOWN,
    "street": Level.TOWN,
    "community": Level.COMMUNITY,
    "village": Level.COMMUNITY,
}

# How many leading digits of the 12-digit code belong to a region of each level.
PREFIX_LENGTH: dict[Level, int] = {
    Level.PROVINCE: 2, Level.CITY: 4, Level.DISTRICT: 6, Level.TOWN: 9, Level.COMMUNITY: 12,
}

# The level a parent must have; a city may also be a root (a city-only deployment).
PARENT_LEVEL: dict[Level, Level | None] = {
    Level.PROVINCE: None,
    Level.CITY: Level.PROVINCE,
    Level.DISTRICT: Level.CITY,
    Level.TOWN: Level.DISTRICT,
    Level.COMMUNITY: Level.TOWN,
}
MAY_BE_ROOT = frozenset({Level.PROVINCE, Level.CITY})

# GB/T 10114: the 3-digit town part. 统计用区划代码: the 3-digit village part.
TOWN_KINDS: list[tuple[int, int, str]] = [(1, 99, "街道"), (100, 199, "镇"), (200, 399, "乡"),
                                         (400, 599, "类似乡级单位")]
VILLAGE_KINDS: list[tuple[int, int, str]] = [(1, 199, "社区"), (200, 399, "村")]
# Words a file may put in its note column, and the kind each one claims.
NOTE_KINDS: dict[str, str] = {"街道": "街道", "镇": "镇", "乡": "乡", "居委会": "社区",
                              "社区": "社区", "村委会": "村", "村": "村"}
# 城乡分类代码 (the 3 digits after the 12-digit code).
URBAN_RURAL_CLASSES = frozenset({"111", "112", "121", "122", "123", "210", "220"})

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"", "0", "false", "no", "n", "f"}
FIRST_DATA_ROW = 2  # row 1 of a division file is its header, as a spreadsheet shows it


class RegionFileError(BadFile):
    """A division file with bad rows. ``problems`` lists every one; nothing was loaded."""

    code = "region_file_invalid"
    default_message = gettext_lazy("The division file has bad rows; nothing was loaded.")


@dataclass
class _Row:
    line: int
    code: str
    name: str
    level: Level | None
    parent_code: str
    extra: dict[str, Any]
    code_ok: bool = False


def kind_of(code: str, level: Level) -> str | None:
    """The kind a code's own part says (街道/镇/乡/社区/村); None if outside the legal ranges."""
    if level == Level.TOWN:
        part, kinds = int(code[6:9]), TOWN_KINDS
    elif level == Level.COMMUNITY:
        part, kinds = int(code[9:12]), VILLAGE_KINDS
    else:
        return ""
    for low, high, kind in kinds:
        if low <= part <= high:
            return kind
    return None


def normalise_code(raw: str) -> str:
    """A 2/4/6/9/12-digit code as 12 digits ("3304" → "330400000000"); other input unchanged."""
    raw = (raw or "").strip()
    if raw.isdigit() and len(raw) in (2, 4, 6, 9, 12):
        return raw.ljust(12, "0")
    return raw


def code_problems(code: str, level: Level) -> list[tuple[str, str]]:
    """What is wrong with ``code`` for a region of ``level``: (column, reason) pairs."""
    if len(code) != 12 or not code.isdigit():
        return [("code12", _("must be exactly 12 digits"))]
    length = PREFIX_LENGTH[level]
    if code[length:].strip("0"):
        return [("code12", _("a %(level)s code has only zeros after digit %(n)d")
                 % {"level": level, "n": length})]
    own = code[{2: 0, 4: 2, 6: 4, 9: 6, 12: 9}[length]:length]
    if not own.strip("0"):
        return [("code12", _("the %(level)s part of the code must not be zero") % {"level": level})]
    if kind_of(code, level) is None:
        if level == Level.TOWN:
            reason = _("town part %(part)s is outside 001–599 (001–099 街道, 100–199 镇, "
                       "200–399 乡, 400–599 similar units)") % {"part": own}
        else:
            reason = _("village part %(part)s is outside 001–399 (001–199 社区, 200–399 村)") % {
                "part": own}
        return [("code12", reason)]
    return []


def parent_problems(code: str, level: Level, parent_code: str | None,
                    parent_level: Level | None) -> list[tuple[str, str]]:
    """What is wrong with placing ``code`` under ``parent_code`` (None: a root)."""
    if parent_code is None:
        if level in MAY_BE_ROOT:
            return []
        return [("parent_code", _("a %(level)s needs a parent") % {"level": level})]
    if parent_code == code:
        return [("parent_code", _("a region cannot be its own parent"))]
    wanted = PARENT_LEVEL[level]
    if parent_level != wanted:
        if wanted is None:
            reason = _("a province has no parent")
        else:
            reason = _("a %(level)s must sit under a %(wanted)s, not under a %(got)s") % {
                "level": level, "wanted": wanted, "got": parent_level}
        return [("parent_code", reason)]
    assert parent_level is not None  # it equals ``wanted``, which is not None here
    prefix = parent_code[:PREFIX_LENGTH[parent_level]]
    if not code.startswith(prefix):
        return [("code12", _("the code does not start with its parent's code %(prefix)s")
                 % {"prefix": prefix})]
    return []


def _flag(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _parse(line: int, raw: Mapping[str, Any], problems: list[RowProblem]) -> _Row:
    def cell(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value).strip()

    code = cell("code12") or normalise_code(cell("code"))
    name = cell("name")
    level_word = cell("level").lower()
    level = LEVEL_ALIASES.get(level_word)
    bad = problems.append
    if not name:
        bad(RowProblem(line, "name", _("is empty")))
    elif len(name) > 64:
        bad(RowProblem(line, "name", _("is longer than 64 characters")))
    if level is None:
        bad(RowProblem(line, "level", _("%(word)r is not one of %(known)s")
                    % {"word": level_word, "known": ", ".join(LEVEL_ALIASES)}))
    extra: dict[str, Any] = {}
    code_ok = False
    if level is not None:
        code_errors = code_problems(code, level)
        code_ok = not code_errors
        for column, reason in code_errors:
            bad(RowProblem(line, column, reason))
        short = cell("code")
        if not code_errors and short and short != code[:PREFIX_LENGTH[level]]:
            bad(RowProblem(line, "code", _("%(short)s does not match code12 %(code)s")
                        % {"short": short, "code": code}))
        kind = kind_of(code, level) if not code_errors else None
        if kind is not None:
            extra["kind_note"] = kind
            claimed = NOTE_KINDS.get(cell("town_kind_or_note"))
            if claimed is not None and kind and claimed != kind:
                bad(RowProblem(line, "town_kind_or_note",
                            _("says %(claimed)s but the code's range is for %(kind)s")
                            % {"claimed": claimed, "kind": kind}))
    elif len(code) != 12 or not code.isdigit():
        bad(RowProblem(line, "code12", _("must be exactly 12 digits")))
    # Optional columns: a file without one leaves that field alone on re-import.
    if "urban_rural_class" in raw:
        urban_rural = cell("urban_rural_class")
        if urban_rural and urban_rural not in URBAN_RURAL_CLASSES:
            bad(RowProblem(line, "urban_rural_class", _("%(value)s is not a 城乡分类 code")
                        % {"value": urban_rural}))
        extra["urban_rural_class"] = urban_rural
    if "management_zone" in raw:
        zone = cell("management_zone")
        if len(zone) > 64:
            bad(RowProblem(line, "management_zone", _("is longer than 64 characters")))
        extra["management_zone"] = zone
    if "is_synthetic" in raw:
        synthetic = _flag(raw.get("is_synthetic"))
        if synthetic is None:
            bad(RowProblem(line, "is_synthetic", _("is not yes/no")))
        extra["is_synthetic"] = bool(synthetic)
    return _Row(line, code, name, level, normalise_code(cell("parent_code")), extra, code_ok)


def _chunks(items: Sequence[str], size: int = 900) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


_REFRESHED = ("name", "kind_note", "urban_rural_class", "management_zone", "is_synthetic")


@dataclass(frozen=True)
class _Known:
    """A region already in the database: plain values, no model instances (100,000 of those
    cost more than the whole load)."""

    id: int
    level: str
    parent_code: str | None
    values: dict[str, Any]


def _existing(codes: Iterable[str], edition: int) -> dict[str, _Known]:
    wanted = sorted(set(codes))
    found: dict[str, _Known] = {}
    for chunk in _chunks(wanted):
        rows = (Region.objects.filter(edition=edition, code__in=chunk)
                .values_list("id", "code", "level", "parent__code", *_REFRESHED))
        for pk, code, level, parent_code, *values in rows:
            found[code] = _Known(pk, level, parent_code, dict(zip(_REFRESHED, values,
                                                                  strict=True)))
    return found


def _validate(rows: list[_Row], edition: int,
              problems: list[RowProblem]) -> tuple[dict[str, _Known], dict[str, _Known]]:
    """Checks that need the whole file and the database; returns (existing, parents in DB)."""
    first_seen: dict[str, int] = {}
    in_file: dict[str, _Row] = {}
    for row in rows:
        if row.code in first_seen:
            problems.append(RowProblem(row.line, "code12", _("duplicate of row %(row)d")
                                    % {"row": first_seen[row.code]}))
        else:
            first_seen[row.code] = row.line
            in_file[row.code] = row
    existing = _existing(in_file, edition)
    outside = {r.parent_code for r in rows if r.parent_code and r.parent_code not in in_file}
    parents_db = _existing(outside, edition)
    for row in rows:
        if row.level is None or in_file.get(row.code) is not row:
            continue
        parent_level: Level | None = None
        parent_code: str | None = row.parent_code or None
        if parent_code is not None:
            if parent_code in in_file:
                parent_level = in_file[parent_code].level
                if parent_level is None:
                    continue  # the parent's own row is already reported
            elif parent_code in parents_db:
                parent_level = Level(parents_db[parent_code].level)
            else:
                problems.append(RowProblem(row.line, "parent_code",
                                        _("%(code)s is neither in the file nor in the database "
                                          "(edition %(edition)d)")
                                        % {"code": parent_code, "edition": edition}))
                continue
        if not row.code_ok:
            continue  # the code itself is already reported
        for column, reason in parent_problems(row.code, row.level, parent_code, parent_level):
            problems.append(RowProblem(row.line, column, reason))
        old = existing.get(row.code)
        if old is not None:
            old_parent = old.parent_code
            if old.level != row.level or old_parent != parent_code:
                problems.append(RowProblem(row.line, "code12", _(
                    "already in the database as a %(level)s under %(parent)s; moving a region "
                    "is not supported by an import") % {"level": old.level,
                                                        "parent": old_parent or "-"}))
    return existing, parents_db


def _set_paths(edition: int, level: Level) -> None:
    """Paths of the level's new rows (path ""), from their parents' paths and their new ids.

    One UPDATE per level: ``bulk_update`` writes a CASE with a branch per row, which costs
    rows × batch comparisons (100 s for 100,000 regions on SQLite against 2 s here).
    """
    parent_path = Subquery(Region.objects.filter(pk=OuterRef("parent_id")).values("path")[:1])
    Region.objects.filter(edition=edition, level=level, path="").update(
        path=Concat(Coalesce(parent_path, Value("/")), Cast("id", CharField()), Value("/"),
                    output_field=CharField()))


def bulk_load_tree(rows: Sequence[Mapping[str, Any]], *, edition: int, actor: Any = None,
                   on_progress: Callable[[int], None] | None = None) -> int:
    """Load a division file's rows (the columns of data/jiaxing_divisions_2023.csv; optional
    ``urban_rural_class``, ``management_zone``, ``is_synthetic``) as regions of ``edition``.

    Everything is checked first — code shape and ranges, known level, parent in the file or the
    database, parent exactly one level up, code under the parent's prefix, duplicates — and a bad
    file raises RegionFileError listing every problem, having written nothing. A good file is
    loaded in one transaction, level by level (bulk inserts, then the paths that need the new
    ids). Regions already present are matched by (code, edition): their names and notes are
    refreshed, nothing is added twice. Returns the number of regions created. System operation:
    callers check permission; ``actor``, when given, is written to the audit log.
    ``on_progress(n)`` is called as each level's ``n`` rows are written (a progress bar).
    """
    problems: list[RowProblem] = []
    parsed = [_parse(FIRST_DATA_ROW + i, raw, problems) for i, raw in enumerate(rows)]
    with transaction.atomic():
        existing, parents_db = _validate(parsed, edition, problems)
        if problems:
            raise RegionFileError(sorted(problems, key=lambda p: (p.row, p.column)))
        ids: dict[str, int] = {code: known.id for code, known in
                               [*parents_db.items(), *existing.items()]}
        created = refreshed = 0
        levels = sorted({r.level for r in parsed if r.level is not None},
                        key=lambda lv: LEVEL_DEPTH[lv])
        for level in levels:
            new: list[Region] = []
            changed: list[Region] = []
            for row in parsed:
                if row.level != level:
                    continue
                values = {"name": row.name, **row.extra}
                old = existing.get(row.code)
                if old is not None:
                    if any(old.values[k] != v for k, v in values.items()):
                        changed.append(Region(pk=old.id, **{**old.values, **values}))
                    continue
                new.append(Region(code=row.code, edition=edition, level=level, path="",
                                  parent_id=ids[row.parent_code] if row.parent_code else None,
                                  **values))
            # Both SQLite (3.35+) and PostgreSQL return the new ids from a bulk insert.
            Region.objects.bulk_create(new, batch_size=2000)
            for region in new:
                ids[region.code] = region.pk
            if new:
                _set_paths(edition, level)
            # Small batches: bulk_update's CASE costs rows × batch comparisons.
            Region.objects.bulk_update(changed, list(_REFRESHED), batch_size=200)
            created += len(new)
            refreshed += len(changed)
            if on_progress is not None:
                on_progress(sum(1 for r in parsed if r.level == level))
        if actor is not None:
            record(actor=actor, action="regions.import",
                   data={"edition": edition, "rows": len(parsed), "created": created,
                         "refreshed": refreshed})
    logger.info("division file: %d rows, %d regions created, %d refreshed",
                len(parsed), created, refreshed)
    return created


def create_region(*, code: str, edition: int, name: str, level: str,
                  parent: Region | None = None, actor: Any = None, **extra: Any) -> Region:
    """Create one region under ``parent`` (None: a root province or city) and set its path.

    The same rules as a division file apply (code shape and range, parent one level up, code
    under the parent's prefix); a violation raises InvalidInput, an existing (code, edition)
    raises Conflict. ``extra`` sets other model fields (management_zone, urban_rural_class,
    is_synthetic...). Callers check permission; ``actor``, when given, is audited.
    """
    try:
        lvl = Level(LEVEL_ALIASES.get(level, level))
    except ValueError:
        raise InvalidInput(fields={"level": [_("%(word)r is not a known level")
                                             % {"word": level}]}) from None
    errors = code_problems(code, lvl)
    if not errors:
        errors = parent_problems(code, lvl, parent.code if parent else None,
                                 Level(parent.level) if parent else None)
        if parent is not None and parent.edition != edition:
            errors.append(("parent", _("the parent belongs to edition %(edition)d")
                           % {"edition": parent.edition}))
    if errors:
        fields: dict[str, list[str]] = {}
        for column, reason in errors:
            fields.setdefault(column, []).append(reason)
        raise InvalidInput(fields=fields)
    extra.setdefault("kind_note", kind_of(code, lvl) or "")
    with transaction.atomic():
        if Region.objects.filter(code=code, edition=edition).exists():
            raise Conflict(_("Region %(code)s already exists in edition %(edition)d.")
                           % {"code": code, "edition": edition})
        region = Region.objects.create(code=code, edition=edition, name=name, level=lvl,
                                       parent=parent, path="", **extra)
        region.path = f"{parent.path if parent else '/'}{region.pk}/"
        region.save(update_fields=["path"])
        if actor is not None:
            record(actor=actor, action="regions.create", obj=region, region=region)
    return region
