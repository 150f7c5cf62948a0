"""Adding to my exercise record: importing a recording from a watch or phone (GPX, TCX, FIT)
and entering a session by hand. Both are self-reported: shown in my data, never ranked or
rewarded."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, File, Router, Schema, Status, UploadedFile

from sportsman.activity import recordings, records
from sportsman.activity.models import ActivityRecord
from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.models import Sport
from sportsman.core.schemas import In
from sportsman.regions.access import for_self

router = Router(tags=["activity"])


class RecordOut(Schema):
    id: int
    source: str
    sport: str | None
    started_at: dt.datetime
    ended_at: dt.datetime
    duration_minutes: int
    counted_minutes: int
    distance_m: int | None
    elevation_gain_m: int | None
    avg_heart_rate: int | None
    is_verified: bool
    flags: list[str]


class ImportOut(Schema):
    records: list[RecordOut]


class ManualIn(In):
    sport: str | None = Field(None, max_length=32, description="a sport's slug")
    started_at: dt.datetime
    duration_minutes: int = Field(..., ge=1, le=records.MANUAL_DAILY_CAP)
    note: str = Field("", max_length=200)


def _out(record: ActivityRecord) -> dict:
    return {"id": record.pk, "source": record.source,
            "sport": record.sport.slug if record.sport_id and record.sport else None,
            "started_at": record.started_at, "ended_at": record.ended_at,
            "duration_minutes": record.duration_minutes,
            "counted_minutes": record.counted_minutes, "distance_m": record.distance_m,
            "elevation_gain_m": record.elevation_gain_m,
            "avg_heart_rate": record.avg_heart_rate, "is_verified": record.is_verified,
            "flags": list(record.flags or [])}


@router.post("/me/activity/import", response={201: ImportOut})
@for_self
@idempotent
def import_recording(request: HttpRequest, file: File[UploadedFile]):
    """Import a GPX, TCX or FIT file (at most 20 MB). Judged by content, not by name; the same
    file again changes nothing. 400 ``recording_empty`` / ``recording_type`` /
    ``recording_corrupt`` / ``recording_too_large`` with nothing written."""
    data = file.read(recordings.MAX_BYTES + 1)
    made = recordings.import_recording(actor=request.user, filename=file.name or "", data=data)
    made = list(ActivityRecord.objects.filter(pk__in=[r.pk for r in made])
                .select_related("sport").order_by("started_at"))
    return Status(201, {"records": [_out(r) for r in made]})


@router.post("/me/activity/manual", response={201: RecordOut})
@for_self
@idempotent
def add_manual(request: HttpRequest, data: ManualIn):
    """Enter a session by hand (unverified; at most 180 minutes of manual entries a day)."""
    sport_id = None
    if data.sport:
        sport_id = Sport.objects.filter(slug=data.sport).values_list("pk", flat=True).first()
        if sport_id is None:
            raise InvalidInput(fields={"sport": ["unknown sport"]}, code="unknown_sport")
    record = records.add_manual_session(actor=request.user, sport_id=sport_id,
                                        started_at=data.started_at,
                                        duration_minutes=data.duration_minutes, note=data.note)
    record = ActivityRecord.objects.select_related("sport").get(pk=record.pk)
    return Status(201, _out(record))


@router.delete("/me/activity/manual/{record_id}", response={204: None})
@for_self
def delete_manual(request: HttpRequest, record_id: int):
    """Delete a session I entered by hand (anything else: 404)."""
    records.delete_manual_session(actor=request.user, record_id=record_id)
    return Status(204, None)
