"""Core API: health and the audit log (read-only: there is no way to change an entry)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from sportsman.core import audit
from sportsman.core.errors import InvalidInput
from sportsman.core.models import AuditEntry
from sportsman.core.schemas import In, Ok
from sportsman.core.selectors import AuditFilters, list_audit_entries_for, page_of
from sportsman.regions.access import Perm, access_for, public, scoped
from sportsman.regions.models import Region

router = Router(tags=["core"])

EXPORT_MAX_ROWS = 50_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class HealthOut(Schema):
    ok: bool


@router.get("/health", auth=None, response=HealthOut)
@public
def health(request: HttpRequest):
    return {"ok": True}


# --- the sensitive-word list ----------------------------------------------------------------------

class WordOut(Schema):
    id: int
    word: str
    region_id: int
    created_at: datetime


class WordIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    word: str = Field(..., min_length=1, max_length=40)


def _word_out(w: Any) -> dict[str, Any]:
    return {"id": w.pk, "word": w.word, "region_id": w.region_id, "created_at": w.created_at}


@router.get("/console/sensitive-words", response=list[WordOut], tags=["moderation"])
@scoped(Perm.WORDS_MANAGE)
def sensitive_words(request: HttpRequest):
    """The words residents' writing is checked against, of the cities in my scope."""
    from sportsman.core.wording import words_in_scope

    return [_word_out(w) for w in words_in_scope(access_for(request)).order_by("word")[:5000]]


@router.post("/console/sensitive-words", response={201: WordOut}, tags=["moderation"])
@scoped(Perm.WORDS_MANAGE)
def add_sensitive_word(request: HttpRequest, data: WordIn):
    """Add a word to a city's list (audited); it applies at once in every process."""
    from ninja import Status

    from sportsman.core.wording import add_word

    return Status(201, _word_out(add_word(actor=request.user, region_id=data.region_id,
                                          word=data.word, request=request)))


@router.delete("/console/sensitive-words/{word_id}", response=Ok, tags=["moderation"])
@scoped(Perm.WORDS_MANAGE)
def remove_sensitive_word(request: HttpRequest, word_id: int):
    from sportsman.core.wording import remove_word

    remove_word(actor=request.user, word_id=word_id, request=request)
    return {"ok": True}


# --- the audit log -----------------------------------------------------------------------------

class AuditQuery(Schema):
    actor_id: int | None = None
    action: str | None = Field(None, max_length=65,
                               description='exact, or a prefix ending in "*" (view.*)')
    kind: AuditEntry.Kind | None = None
    object_type: str | None = Field(None, max_length=64)
    object_id: str | None = Field(None, max_length=64)
    region: int | None = Field(None, description="region id: entries in its subtree")
    date_from: date | None = Field(None, description="first day, inclusive (Asia/Shanghai)")
    date_to: date | None = Field(None, description="last day, inclusive (Asia/Shanghai)")

    def filters(self) -> AuditFilters:
        return AuditFilters(actor_id=self.actor_id, action=self.action,
                            kind=self.kind.value if self.kind else None,
                            object_type=self.object_type, object_id=self.object_id,
                            region_id=self.region, date_from=self.date_from,
                            date_to=self.date_to)


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class AuditEntryOut(Schema):
    id: int
    at: datetime
    kind: str
    action: str
    actor_id: int | None
    actor_name: str
    object_type: str
    object_id: str
    region_id: int | None
    region_code: str
    region_name: str
    ip: str | None
    user_agent: str
    data: dict[str, Any]


class AuditPageOut(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None


def _actor_name(entry: AuditEntry) -> str:
    actor = entry.actor
    if actor is None:
        return entry.actor_label
    return actor.nickname or actor.masked_phone


def _row(entry: AuditEntry) -> dict[str, Any]:
    region = entry.region
    return {
        "id": entry.pk, "at": entry.at, "kind": entry.kind, "action": entry.action,
        "actor_id": entry.actor_id, "actor_name": _actor_name(entry),
        "object_type": entry.object_type, "object_id": entry.object_id,
        "region_id": entry.region_id, "region_code": region.code if region else "",
        "region_name": region.name if region else "", "ip": entry.ip,
        "user_agent": entry.user_agent, "data": entry.data,
    }


@router.get("/audit", response=AuditPageOut, tags=["audit"])
@scoped(Perm.AUDIT_VIEW)
def list_audit(request: HttpRequest, filters: Query[AuditQuery], page: Query[PageQuery]):
    """Audit entries in the caller's scope, newest first; follow ``next_cursor`` for more."""
    qs = list_audit_entries_for(access_for(request), filters.filters())
    rows, next_cursor = page_of(qs, cursor=page.cursor, limit=page.limit)
    return {"items": [_row(e) for e in rows], "next_cursor": next_cursor}


@router.get("/audit/export.xlsx", tags=["audit"])
@scoped(Perm.AUDIT_VIEW)
def export_audit(request: HttpRequest, filters: Query[AuditQuery]):
    """The same entries as ``GET /audit`` as a spreadsheet; the export itself is audited."""
    access = access_for(request)
    chosen = filters.filters()
    qs = list_audit_entries_for(access, chosen)
    count = qs.count()
    if count > EXPORT_MAX_ROWS:
        raise InvalidInput(
            _("%(count)d entries match; narrow the filters to at most %(max)d.")
            % {"count": count, "max": EXPORT_MAX_ROWS}, code="export_too_large")
    content = _workbook(qs)
    region = (Region.objects.filter(pk=chosen.region_id).first() if chosen.region_id
              else access.root_regions(Perm.AUDIT_VIEW).first())
    audit.record(actor=request.user, action="audit.export", kind=AuditEntry.Kind.VIEW,
                 object_type="core.auditentry", region=region, request=request,
                 data={"filters": chosen.as_dict(), "rows": count})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
    return response


def _cell(value: Any) -> Any:
    """A value openpyxl stores as plain data: text is never a formula, times are local."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _workbook(qs) -> bytes:
    import json

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Audit log"))
    headers = [_("Time"), _("Kind"), _("Action"), _("Actor id"), _("Actor"), _("Object type"),
               _("Object id"), _("Region code"), _("Region"), _("IP address"), _("User agent"),
               _("Details")]
    sheet.append(headers)
    for entry in qs.iterator(chunk_size=2000):
        row = _row(entry)
        values = [row["at"], entry.get_kind_display(), row["action"], row["actor_id"],
                  row["actor_name"], row["object_type"], row["object_id"], row["region_code"],
                  row["region_name"], row["ip"], row["user_agent"],
                  json.dumps(row["data"], ensure_ascii=False, sort_keys=True)]
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=_cell(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=HYPERLINK(…)" from a user stays text, never a formula
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
