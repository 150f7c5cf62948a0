"""Bulk exchange (docs/exchange.md): CSV and xlsx import and export of facilities, associations,
instructors, events and — export only, with their consent — residents, inside one region's
subtree.

An import is an ``ExchangeJob`` run by a background task (``interfaces.tasks.run_exchange``):

1. the file is read (xlsx by its signature, else CSV in UTF-8 with or without BOM or GB18030;
   ``facilities.imports.read_table``, the one reader) and its header matched against the kind's
   schema (``exchange_formats``; Chinese or English headers);
2. a *check* pass, chunk by chunk (``CHUNK`` rows, progress saved after each): every cell is
   parsed, every row's region must lie in the job's region and in the actor's scope, the
   natural key must be unique in the file, and the row is applied through the domain's own
   service inside a transaction that is then rolled back — so the domain's rules report here,
   row by row, and nothing stays;
3. any problem: the job fails with every problem listed (row, column, code, message) and nothing
   has changed. None: one transaction applies every row through the same services (create, or
   update only what differs; a row equal to what is stored writes nothing), so a file imported
   twice changes nothing the second time.

Facilities go through the facility register's importer (``facilities.imports``), which has its
own checks, natural key (外部编号) and all-or-nothing load.

An export streams the kind's rows of the region's subtree (the actor's scope for the kind and
for EXCHANGE_MANAGE) as CSV or xlsx, in the import's columns, so an exported file imports back
unchanged. Every import and export is audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.core import audit, crypto
from sportsman.core.errors import DomainError, InvalidInput, NotFound, RowProblem
from sportsman.core.models import AuditEntry
from sportsman.core.uploads import too_large
from sportsman.interfaces.exchange_formats import (
    KINDS,
    CellError,
    Kind,
    export_cell,
)
from sportsman.interfaces.models import (
    ExchangeDirection,
    ExchangeJob,
    ExchangeKind,
    ExchangeStatus,
)
from sportsman.regions.access import GRANTS_ATTR, Access, Perm, access_for_user
from sportsman.regions.models import Region, subtree_q

CHUNK = 200
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
FIRST_DATA_ROW = 2  # the header is row 1, as a spreadsheet shows it
# Text a spreadsheet would run as a formula is written with a leading apostrophe (and read back
# without it).
_FORMULA_START = ("=", "+", "@", "\t", "\r")


@dataclass
class Problem:
    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code,
                "message": self.message}


class RowError(Exception):
    def __init__(self, column: str, code: str, message: Any) -> None:
        super().__init__(code)
        self.column, self.code, self.message = column, code, str(message)


class _Rollback(Exception):
    """Raised to undo a check pass's writes."""


# --- reading files -----------------------------------------------------------------------------

def read_table(content: bytes) -> list[list[str]]:
    from sportsman.facilities.imports import read_table as read

    if len(content) > MAX_BYTES:
        raise too_large(MAX_BYTES)
    return [[_unescape(c) for c in row] for row in read(content)]


def _unescape(cell: str) -> str:
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in _FORMULA_START else cell


def _escape(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def file_format(content: bytes) -> str:
    return "xlsx" if content[:2] == b"PK" else "csv"


def map_header(kind: Kind, header: list[str]) -> tuple[dict[str, int], list[Problem]]:
    """Column key → index in the file; problems for unknown, repeated and missing columns."""
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name.strip():
            continue
        column = kind.column(name)
        if column is None:
            problems.append(Problem(1, name, "unknown_column", _("Unknown column.")))
        elif column.key in index:
            problems.append(Problem(1, name, "duplicate_column",
                                    _("The column appears twice.")))
        else:
            index[column.key] = i
    for column in kind.columns:
        if column.required and column.key not in index:
            problems.append(Problem(1, column.zh, "missing_column",
                                    _("The required column is missing.")))
    return index, problems


# --- starting and running a job ----------------------------------------------------------------

def _job_region(access: Access, region_id: int) -> Region:
    region = Region.objects.filter(pk=region_id).first() if 0 < region_id < 2**63 else None
    if region is None or not access.can(Perm.EXCHANGE_MANAGE, region):
        access.require_anywhere(Perm.EXCHANGE_MANAGE)
        raise NotFound(_("There is no such region in your scope."), code="region_not_found")
    return region


def _kind(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise InvalidInput(_("Unknown kind of data."), code="unknown_kind",
                           fields={"kind": [_("Unknown kind of data.")]})
    return kind


def start_import(*, actor: Any, kind: str, region_id: int, content: bytes, file_name: str = "",
                 request: Any = None) -> ExchangeJob:
    """Queue the import of one file of ``kind`` into ``region_id``'s subtree (EXCHANGE_MANAGE
    there; the rows also need the kind's own permission). Refuses ``unknown_kind``,
    ``kind_not_importable`` (residents), ``file_too_large`` and ``region_not_found``. The file
    is kept with the job; the task runs after commit. Audited as ``exchange.import``."""
    from sportsman.interfaces.tasks import run_exchange

    access = access_for_user(actor)
    access.require_anywhere(Perm.EXCHANGE_MANAGE)
    chosen = _kind(kind)
    if not chosen.importable:
        raise InvalidInput(_("This kind of data can only be exported."),
                           code="kind_not_importable")
    region = _job_region(access, region_id)
    if len(content) > MAX_BYTES:
        raise too_large(MAX_BYTES)
    if not content:
        raise InvalidInput(_("The file is empty."), code="empty_file",
                           fields={"file": [_("The file is empty.")]})
    fmt = file_format(content)
    with transaction.atomic():
        job = ExchangeJob(kind=chosen.key, direction=ExchangeDirection.IMPORT, region=region,
                          created_by=actor, file_name=(file_name or "")[:200], file_format=fmt)
        job.file.save(f"{chosen.key}.{fmt}", ContentFile(content), save=False)
        job.save()
        audit.record(actor=actor, action="exchange.import", obj=job, region=region,
                     request=request, data={"kind": chosen.key, "format": fmt})
        transaction.on_commit(lambda: run_exchange.enqueue(job.pk))
    return job


def run_import(job_id: int) -> ExchangeJob | None:
    """Run a queued import (see the module's docstring). A job already taken by another worker
    (its status moved on) is left alone."""
    if not ExchangeJob.objects.filter(pk=job_id, status=ExchangeStatus.QUEUED).update(
            status=ExchangeStatus.VALIDATING, updated_at=timezone.now()):
        return None
    job = ExchangeJob.objects.select_related("region", "created_by").get(pk=job_id)
    try:
        with job.file.open("rb") as handle:
            content = handle.read()
        table = read_table(content)
    except (InvalidInput, OSError) as exc:
        code = exc.code if isinstance(exc, DomainError) else "bad_file"
        message = exc.message if isinstance(exc, DomainError) else _("The file cannot be read.")
        return _finish(job, [Problem(0, "", code, str(message))])
    kind = KINDS[job.kind]
    if not table or not any(table[0]):
        return _finish(job, [Problem(1, "", "no_header", _("The file has no header row."))])
    index, problems = map_header(kind, table[0])
    if problems:
        return _finish(job, problems)
    body = [(FIRST_DATA_ROW + i, r) for i, r in enumerate(table[1:]) if any(c for c in r)]
    if not body:
        return _finish(job, [Problem(FIRST_DATA_ROW, "", "no_rows",
                                     _("The file has no data rows."))])
    if len(body) > MAX_ROWS:
        return _finish(job, [Problem(FIRST_DATA_ROW, "", "too_many_rows",
                                     _("At most %(n)d rows per file.") % {"n": MAX_ROWS})])
    ExchangeJob.objects.filter(pk=job.pk).update(rows_total=len(body))
    job.rows_total = len(body)
    actor = job.created_by
    if actor is None or not actor.is_active:
        return _finish(job, [Problem(0, "", "forbidden",
                                     _("The account that started the import is closed."))])
    access = access_for_user(actor)
    # Read the actor's grants once for the job: every domain service builds its own Access
    # from the user and reuses them (as a bearer-token request does) instead of a query a row.
    setattr(actor, GRANTS_ATTR, access.grants)
    ctx = Context(actor=actor, access=access, region=job.region, kind=kind)
    if kind.key == ExchangeKind.FACILITIES:
        return _import_facilities(job, ctx, content, body, index)
    handler = HANDLERS[kind.key]
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for start in range(0, len(body), CHUNK):
        chunk = body[start:start + CHUNK]
        parsed = []
        for line, raw in chunk:
            values = _parse_row(kind, index, line, raw, problems)
            if values is None:
                continue
            key = handler.file_key(values)
            if key is not None and key in seen:
                column = kind.by_header[kind.natural_key]
                problems.append(Problem(line, column.zh, "duplicate_key",
                                        _("Same key as row %(row)d.") % {"row": seen[key]}))
                continue
            if key is not None:
                seen[key] = line
            parsed.append((line, values))
        problems += _apply(ctx, handler, parsed, check=True)
        rows += parsed
        ExchangeJob.objects.filter(pk=job.pk).update(rows_done=start + len(chunk),
                                                     updated_at=timezone.now())
    if problems:
        return _finish(job, problems)
    ExchangeJob.objects.filter(pk=job.pk).update(status=ExchangeStatus.COMMITTING,
                                                          updated_at=timezone.now())
    summary: dict[str, int] = {"created": 0, "updated": 0, "unchanged": 0}
    problems = _apply(ctx, handler, rows, check=False, summary=summary)
    return _finish(job, problems, summary)


# A job whose worker went silent this long (no chunk checked, no load finished) died: its writes
# were rolled back with its transaction, so it can run again from the start.
STALE_AFTER = dt.timedelta(minutes=15)


def requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Ids of the jobs to (re)run: queued ones whose task may have been lost (older than a
    minute) and running ones gone silent past ``STALE_AFTER``, put back in the queue by a
    conditional UPDATE (the scheduler's sweep enqueues them)."""
    now = now or timezone.now()
    running = (ExchangeStatus.VALIDATING, ExchangeStatus.COMMITTING)
    stale = list(ExchangeJob.objects.filter(status__in=running,
                                            updated_at__lt=now - STALE_AFTER)
                 .values_list("pk", flat=True)[:100])
    if stale:
        ExchangeJob.objects.filter(pk__in=stale, status__in=running,
                                   updated_at__lt=now - STALE_AFTER).update(
            status=ExchangeStatus.QUEUED, rows_done=0, updated_at=now)
    return list(ExchangeJob.objects.filter(
        status=ExchangeStatus.QUEUED, direction=ExchangeDirection.IMPORT,
        updated_at__lt=now - dt.timedelta(minutes=1)).values_list("pk", flat=True)[:100]) + stale


def _parse_row(kind: Kind, index: dict[str, int], line: int, raw: list[str],
               problems: list[Problem]) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    before = len(problems)
    for column in kind.columns:
        if column.key not in index:
            continue
        i = index[column.key]
        cell = raw[i].strip() if i < len(raw) else ""
        if column.required and not cell:
            problems.append(Problem(line, column.zh, "required", _("This field is required.")))
            continue
        try:
            values[column.key] = column.parse(cell)
        except CellError as exc:
            problems.append(Problem(line, column.zh, exc.code, exc.message))
    return values if len(problems) == before else None


def _apply(ctx: Context, handler: Handler, rows: list[tuple[int, dict[str, Any]]], *,
           check: bool, summary: dict[str, int] | None = None) -> list[Problem]:
    """Apply ``rows`` through the domain services in one transaction, each row in a savepoint;
    the problems found. ``check``: roll everything back afterwards. Otherwise any problem rolls
    the whole file back."""
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            for line, values in rows:
                try:
                    with transaction.atomic():
                        outcome = _apply_row(ctx, handler, values)
                    if summary is not None:
                        summary[outcome] += 1
                except RowError as exc:
                    problems.append(Problem(line, exc.column, exc.code, exc.message))
                except DomainError as exc:
                    problems += _domain_problems(ctx.kind, line, exc)
            if check or problems:
                raise _Rollback()
    except _Rollback:
        pass
    return problems


# Service argument names → the file's column keys, for mapping a refusal onto its column.
_FIELD_COLUMN = {"region_id": "region_code", "sport_id": "sport", "user_id": "phone",
                 "registration_closes_at": "registration_closes_at"}


def _domain_problems(kind: Kind, line: int, exc: DomainError) -> list[Problem]:
    out = []
    for name, messages in (exc.fields or {}).items():
        column = kind.by_header.get(_FIELD_COLUMN.get(name, name))
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            out.append(Problem(line, column.zh if column else "", exc.code, str(message)))
    return out or [Problem(line, "", exc.code, str(exc.message))]


def _apply_row(ctx: Context, handler: Handler, values: dict[str, Any]) -> str:
    handler.prepare(ctx, values)
    found = handler.find(ctx, values)
    if found is None:
        handler.create(ctx, values)
        return "created"
    if not (found.region.path.startswith(ctx.region.path)
            and ctx.access.can(ctx.kind.perm, found.region)):
        column = ctx.kind.by_header[ctx.kind.natural_key]
        raise RowError(column.zh, "key_out_of_scope",
                       _("This key belongs to a record outside your scope."))
    current = handler.current(found)
    changes = {k: v for k, v in values.items() if v is not None and k in current
               and not ctx.kind.by_header[k].export_only and current[k] != v}
    if not changes:
        return "unchanged"
    handler.update(ctx, found, changes)
    return "updated"


def _finish(job: ExchangeJob, problems: list[Problem],
            summary: dict[str, int] | None = None) -> ExchangeJob:
    job.errors = [p.as_dict() for p in sorted(problems, key=lambda p: (p.row, p.column))]
    job.status = ExchangeStatus.FAILED if problems else ExchangeStatus.SUCCEEDED
    job.summary = summary or {}
    job.finished_at = timezone.now()
    if not problems:
        job.rows_done = job.rows_total
    job.save(update_fields=["errors", "status", "summary", "finished_at", "rows_done",
                            "updated_at"])
    return job


def _import_facilities(job: ExchangeJob, ctx: Context, content: bytes,
                       body: list[tuple[int, list[str]]], index: dict[str, int]) -> ExchangeJob:
    """The facility register's own importer, with the job's region as a further bound."""
    from sportsman.facilities import imports

    table = [[c.zh for c in ctx.kind.columns if c.key in index]]
    order = [index[c.key] for c in ctx.kind.columns if c.key in index]
    table += [[raw[i] if i < len(raw) else "" for i in order] for _line, raw in body]
    # lines are the file's: the re-built table keeps one row per non-empty row
    lines = [line for line, _raw in body]
    if ctx.access.has_anywhere(Perm.FACILITY_MANAGE):
        rows, found = imports.validate(ctx.access, table)
    else:
        rows, found = [], [RowProblem(FIRST_DATA_ROW, "", _("You may not manage "
                                                                    "facilities."))]
    problems = [Problem(_file_line(lines, p.row), p.column, "facility_row_invalid",
                        str(p.reason)) for p in found]
    header = ctx.kind.by_header["region_code"].zh
    for row in rows:
        region = row.values.get("region")
        if region is not None and not region.path.startswith(ctx.region.path):
            problems.append(Problem(_file_line(lines, row.line), header, "region_out_of_scope",
                                    _("This region is outside the region of the import.")))
    ExchangeJob.objects.filter(pk=job.pk).update(rows_done=len(body))
    if problems:
        return _finish(job, problems)
    ExchangeJob.objects.filter(pk=job.pk).update(status=ExchangeStatus.COMMITTING,
                                                          updated_at=timezone.now())
    out = io.StringIO()
    csv.writer(out).writerows(table)
    try:
        report = imports.import_facilities(actor=ctx.actor, content=out.getvalue().encode())
    except imports.FacilityFileError as exc:  # changed between the check and the load
        return _finish(job, [Problem(_file_line(lines, p.row), p.column,
                                     "facility_row_invalid", str(p.reason))
                             for p in exc.problems])
    return _finish(job, [], {"created": report.created, "updated": report.updated,
                             "unchanged": report.unchanged})


def _file_line(lines: list[int], row: int) -> int:
    i = row - FIRST_DATA_ROW
    return lines[i] if 0 <= i < len(lines) else row


# --- the kinds' handlers -----------------------------------------------------------------------

@dataclass
class Context:
    actor: Any
    access: Access
    region: Region  # the job's region: every row lies in its subtree
    kind: Kind
    _regions: dict[str, Region | None] = field(default_factory=dict)
    _sports: dict[str, Any] = field(default_factory=dict)

    def region_of(self, code: str, column: str = "region_code") -> Region:
        if code not in self._regions:
            self._regions[code] = (Region.objects.filter(code=code).order_by("-edition")
                                   .first())
        region = self._regions[code]
        header = self.kind.by_header[column].zh
        if region is None:
            raise RowError(header, "region_not_found", _("No region with this code."))
        if not (region.path.startswith(self.region.path)
                and self.access.can(Perm.EXCHANGE_MANAGE, region)
                and self.access.can(self.kind.perm, region)):
            raise RowError(header, "region_out_of_scope",
                           _("This region is outside your scope."))
        return region

    def sport(self, key: str, column: str) -> Any:
        """A sport by its Chinese name or slug."""
        from sportsman.facilities.registry import sports_by_key

        if key not in self._sports:
            found, _unknown = sports_by_key([key])
            self._sports[key] = found[0] if found else None
        if self._sports[key] is None:
            raise RowError(self.kind.by_header[column].zh, "unknown_sport",
                           _("Unknown sport: %(name)s") % {"name": key})
        return self._sports[key]


class Handler:
    """How one kind's rows meet its domain services."""

    kind: Kind

    def file_key(self, values: dict[str, Any]) -> Any:
        return values.get(self.kind.natural_key) or None

    def prepare(self, ctx: Context, values: dict[str, Any]) -> None:
        """Resolve the row's references (region, sports) and normalise them as ``current``
        writes them; RowError when one is unknown or outside scope."""
        if "region_code" in values:
            values["_region"] = ctx.region_of(values["region_code"])
        if values.get("sport"):
            values["_sport"] = ctx.sport(values["sport"], "sport")
            values["sport"] = values["_sport"].name_zh
        if "sports" in values:
            values["_sports"] = [ctx.sport(s, "sports") for s in values["sports"]]
            values["sports"] = sorted({s.name_zh for s in values["_sports"]})

    def find(self, ctx: Context, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def current(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def create(self, ctx: Context, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update(self, ctx: Context, obj: Any, changes: dict[str, Any]) -> None:
        raise NotImplementedError

    def queryset(self, access: Access, region: Region) -> QuerySet:
        raise NotImplementedError

    def export_rows(self, access: Access, region: Region) -> Iterator[list[Any]]:
        for obj in self.queryset(access, region).iterator(chunk_size=1000):
            current = self.current(obj)
            yield [export_cell(current.get(c.key)) for c in self.kind.columns]

    def _not_editable(self, changes: dict[str, Any], keys: Iterable[str]) -> None:
        for key in keys:
            if key in changes:
                raise RowError(self.kind.by_header[key].zh, "not_editable",
                               _("This field cannot be changed by an import."))


class AssociationHandler(Handler):
    kind = KINDS[ExchangeKind.ASSOCIATIONS]
    PROFILE = ("founded_on", "address", "contact_name", "contact_phone", "sport")

    def queryset(self, access: Access, region: Region) -> QuerySet:
        from sportsman.associations.models import Association, AssociationStatus

        return (_in(access, Association.objects.exclude(status=AssociationStatus.DISSOLVED),
                    Perm.ASSOCIATION_MANAGE, region)
                .select_related("region", "sport").order_by("region__path", "name", "id"))

    def find(self, ctx: Context, values: dict[str, Any]) -> Any:
        from sportsman.associations.models import Association, AssociationStatus

        return (Association.objects.exclude(status=AssociationStatus.DISSOLVED)
                .select_related("region", "sport")
                .filter(credit_code__iexact=values["credit_code"]).first())

    def current(self, obj: Any) -> dict[str, Any]:
        return {"credit_code": obj.credit_code.upper(), "name": obj.name, "kind": obj.kind,
                "legal_status": obj.legal_status, "region_code": obj.region.code,
                "sport": obj.sport.name_zh if obj.sport else "", "founded_on": obj.founded_on,
                "address": obj.address, "contact_name": obj.contact_name,
                "contact_phone": obj.contact_phone}

    def create(self, ctx: Context, values: dict[str, Any]) -> Any:
        from sportsman.associations import registry
        from sportsman.associations.models import LegalStatus

        made = registry.create_association(
            actor=ctx.actor, region_id=values["_region"].pk, name=values["name"],
            kind=values["kind"], legal_status=values.get("legal_status") or LegalStatus.GRASSROOTS,
            sport_id=values["_sport"].pk if values.get("_sport") else None,
            credit_code=values["credit_code"])
        profile = self._profile(values)
        if profile:
            registry.staff_update_profile(actor=ctx.actor, association_id=made.pk, **profile)
        return made

    def update(self, ctx: Context, obj: Any, changes: dict[str, Any]) -> None:
        from sportsman.associations import registry

        # The name, kind, legal status and region change only through the one window (an
        # approved change of registration), never by a file.
        self._not_editable(changes, ("name", "kind", "legal_status", "region_code"))
        if changes.get("sport") == "" and obj.sport_id:
            changes["_sport"] = None
        elif "sport" in changes:
            changes["_sport"] = ctx.sport(changes["sport"], "sport")
        registry.staff_update_profile(actor=ctx.actor, association_id=obj.pk,
                                      **self._profile(changes))

    def _profile(self, values: dict[str, Any]) -> dict[str, Any]:
        out = {k: values[k] for k in ("founded_on", "address", "contact_name", "contact_phone")
               if values.get(k) not in (None, "") or (k in values and k != "founded_on")}
        if "_sport" in values:
            out["sport_id"] = values["_sport"].pk if values["_sport"] else 0
        return {k: v for k, v in out.items() if v is not None}


class InstructorHandler(Handler):
    kind = KINDS[ExchangeKind.INSTRUCTORS]

    def queryset(self, access: Access, region: Region) -> QuerySet:
        from sportsman.instructors.models import Instructor

        return (_in(access, Instructor.objects.all(), Perm.INSTRUCTOR_MANAGE, region)
                .select_related("region", "user").prefetch_related("sports")
                .order_by("region__path", "certificate_number", "id"))

    def find(self, ctx: Context, values: dict[str, Any]) -> Any:
        from sportsman.instructors.models import Instructor

        return (Instructor.objects.select_related("region", "user").prefetch_related("sports")
                .filter(certificate_number__iexact=values["certificate_number"]).first())

    def current(self, obj: Any) -> dict[str, Any]:
        return {"certificate_number": obj.certificate_number.upper(), "name": obj.name,
                "level": obj.level, "region_code": obj.region.code,
                "sports": sorted(s.name_zh for s in obj.sports.all()),
                "certified_on": obj.certified_on, "phone": obj.user.masked_phone}

    def create(self, ctx: Context, values: dict[str, Any]) -> Any:
        from sportsman.accounts.models import User
        from sportsman.instructors import registry

        header = self.kind.by_header["phone"].zh
        phone = values.get("phone") or ""
        if not phone or "*" in phone:
            raise RowError(header, "required",
                           _("A new instructor needs the phone number of their account."))
        user = User.objects.filter(phone_hash=crypto.keyed_hash(phone), is_active=True).first()
        if user is None:
            raise RowError(header, "user_not_found", _("No resident has this phone number."))
        return registry.register_instructor(
            access=ctx.access, user_id=user.pk, name=values["name"], level=values["level"],
            certificate_number=values["certificate_number"], region_id=values["_region"].pk,
            sports=[s.slug for s in values.get("_sports", [])],
            certified_on=values.get("certified_on"))

    def update(self, ctx: Context, obj: Any, changes: dict[str, Any]) -> None:
        from sportsman.instructors import registry

        sports = None
        if "sports" in changes:
            sports = [ctx.sport(s, "sports").slug for s in changes["sports"]]
        registry.update_instructor(
            access=ctx.access, instructor_id=obj.pk, name=changes.get("name"),
            level=changes.get("level"),
            region_id=(ctx.region_of(changes["region_code"]).pk if "region_code" in changes
                       else None),
            sports=sports, certified_on=changes.get("certified_on"))


class EventHandler(Handler):
    kind = KINDS[ExchangeKind.EVENTS]
    FIELDS = ("title", "starts_at", "ends_at", "registration_opens_at",
              "registration_closes_at", "capacity", "place", "organiser_name", "description")

    def file_key(self, values: dict[str, Any]) -> Any:
        # a new row (no id) is known by its region, title and start
        return values.get("id") or (values.get("region_code"), values.get("title"),
                                    values.get("starts_at"))

    def queryset(self, access: Access, region: Region) -> QuerySet:
        from sportsman.events.models import Event

        return (_in(access, Event.objects.all(), Perm.EVENT_MANAGE, region)
                .select_related("region", "sport").order_by("starts_at", "id"))

    def find(self, ctx: Context, values: dict[str, Any]) -> Any:
        from sportsman.events.models import Event, EventStatus

        qs = Event.objects.select_related("region", "sport")
        if values.get("id"):
            found = qs.filter(pk=values["id"]).first()
            if found is None:
                raise RowError(self.kind.by_header["id"].zh, "key_not_found",
                               _("No event has this id."))
            return found
        return (qs.filter(region=values["_region"], title=values["title"],
                          starts_at=values["starts_at"])
                .exclude(status=EventStatus.CANCELLED).order_by("id").first())

    def current(self, obj: Any) -> dict[str, Any]:
        return {"id": obj.pk, "title": obj.title, "region_code": obj.region.code,
                "starts_at": obj.starts_at, "ends_at": obj.ends_at,
                "registration_opens_at": obj.registration_opens_at,
                "registration_closes_at": obj.registration_closes_at,
                "capacity": obj.capacity, "place": obj.place,
                "organiser_name": obj.organiser_name,
                "sport": obj.sport.name_zh if obj.sport else "",
                "description": obj.description}

    def _fields(self, ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
        out = {k: values[k] for k in self.FIELDS if k in values and values[k] is not None}
        if out.get("organiser_name") == "":
            out.pop("organiser_name")  # the region's name, as the service decides
        if "sport" in values:
            out["sport_id"] = ctx.sport(values["sport"], "sport").pk if values["sport"] else None
        return out

    def create(self, ctx: Context, values: dict[str, Any]) -> Any:
        from sportsman.events import services

        return services.create_event(actor=ctx.actor, region_id=values["_region"].pk,
                                     **self._fields(ctx, values))

    def update(self, ctx: Context, obj: Any, changes: dict[str, Any]) -> None:
        from sportsman.events import services

        self._not_editable(changes, ("region_code",))
        services.update_event(actor=ctx.actor, event_id=obj.pk, **self._fields(ctx, changes))


class ResidentHandler(Handler):
    """Export only. A resident leaves only with their consent: the latest answer to the
    "sharing" purpose (accounts.Consent) is granted; and only the fields of the schema."""

    kind = KINDS[ExchangeKind.RESIDENTS]

    def queryset(self, access: Access, region: Region) -> QuerySet:
        from sportsman.accounts.models import Consent, User

        latest = (Consent.objects.filter(user=OuterRef("pk"), purpose=Consent.Purpose.SHARING)
                  .order_by("-at", "-id").values("granted")[:1])
        return (User.objects.filter(is_active=True, home_community__isnull=False)
                .annotate(shares=Subquery(latest)).filter(shares=True)
                .filter(access.region_q(Perm.EXCHANGE_MANAGE, "home_community"))
                .filter(subtree_q(region.path, "home_community"))
                .select_related("home_community").prefetch_related("interests")
                .order_by("id"))

    def current(self, obj: Any) -> dict[str, Any]:
        return {"id": obj.pk, "nickname": obj.nickname, "region_code": obj.home_community.code,
                "sex": obj.sex, "birth_year": obj.birth_year,
                "interests": sorted(s.name_zh for s in obj.interests.all())}


class FacilityHandler(Handler):
    kind = KINDS[ExchangeKind.FACILITIES]

    def queryset(self, access: Access, region: Region) -> QuerySet:
        from sportsman.facilities.models import Facility

        return (_in(access, Facility.objects.all(), Perm.FACILITY_MANAGE, region)
                .order_by("name", "id"))

    def export_rows(self, access: Access, region: Region) -> Iterator[list[Any]]:
        from sportsman.facilities.exports import facility_rows

        yield from (list(row) for row in facility_rows(self.queryset(access, region)))


HANDLERS: dict[str, Handler] = {h.kind.key: h for h in (
    FacilityHandler(), AssociationHandler(), InstructorHandler(), EventHandler(),
    ResidentHandler())}


def _in(access: Access, qs: QuerySet, perm: Perm, region: Region) -> QuerySet:
    """Rows of ``region``'s subtree in the actor's scope for both ``perm`` and exchange."""
    return (access.scope(qs, perm).filter(access.region_q(Perm.EXCHANGE_MANAGE))
            .filter(subtree_q(region.path, "region")))


# --- export ------------------------------------------------------------------------------------

def export(*, actor: Any, kind: str, region_id: int, fmt: str = "xlsx",
           request: Any = None) -> tuple[list[str], Iterator[list[Any]], ExchangeJob]:
    """The header and rows of ``kind`` in ``region_id``'s subtree (EXCHANGE_MANAGE there, and
    the kind's own permission for its rows), to stream. Recorded as a finished export job and
    audited as ``exchange.export`` (residents' also as a view of personal data)."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.EXCHANGE_MANAGE)
    chosen = _kind(kind)
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput(_("CSV or xlsx."), code="unknown_format")
    region = _job_region(access, region_id)
    handler = HANDLERS[chosen.key]
    total = handler.queryset(access, region).count()
    with transaction.atomic():
        job = ExchangeJob.objects.create(
            kind=chosen.key, direction=ExchangeDirection.EXPORT, region=region,
            created_by=actor, file_format=fmt, status=ExchangeStatus.SUCCEEDED,
            rows_total=total, rows_done=total, finished_at=timezone.now())
        audit.record(actor=actor, action="exchange.export", obj=job, region=region,
                     request=request, data={"kind": chosen.key, "rows": total,
                                            "format": fmt},
                     kind=(AuditEntry.Kind.VIEW if chosen.key == ExchangeKind.RESIDENTS
                           else AuditEntry.Kind.WRITE))
    return chosen.headers, handler.export_rows(access, region), job


def csv_chunks(headers: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel then reads the Chinese right), a chunk per 500 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(headers)
    for n, row in enumerate(rows, 1):
        writer.writerow([_escape(v) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_content(kind: str, headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    from sportsman.core import xlsx

    return xlsx.workbook([(str(KINDS[kind].label), headers, rows)])


# --- reading jobs ------------------------------------------------------------------------------

def jobs_for(access: Access, *, region: Region | None = None) -> QuerySet[ExchangeJob]:
    qs = access.scope(ExchangeJob.objects.select_related("region", "created_by"),
                      Perm.EXCHANGE_MANAGE)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    return qs.order_by("-id")


def job_in_scope(access: Access, job_id: int) -> ExchangeJob:
    access.require_anywhere(Perm.EXCHANGE_MANAGE)
    found = jobs_for(access).filter(pk=job_id).first() if 0 < job_id < 2**63 else None
    if found is None:
        raise NotFound(_("There is no such job."), code="job_not_found")
    return found


def error_report(job: ExchangeJob) -> bytes:
    """Every problem of a job as a workbook: row, column, code, message."""
    from sportsman.core import xlsx

    rows = ([e["row"], e["column"], e["code"], e["message"]] for e in job.errors)
    return xlsx.workbook([(_("Errors"), [_("Row"), _("Column"), _("Code"), _("Message")],
                           rows)])
