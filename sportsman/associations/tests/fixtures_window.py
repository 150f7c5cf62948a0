"""Builders for the registry's and the one window's tests: an association with its manager, a
complete application of a kind, documents (a PDF, a JPEG, junk)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone

from sportsman.associations import window
from sportsman.associations.models import (
    Application,
    Association,
    AssociationMember,
    LegalStatus,
)


def pdf(size: int = 0) -> bytes:
    body = b"%PDF-1.4\n1 0 obj <<>> endobj\n" + b"0" * max(0, size) + b"\ntrailer <<>>\n%%EOF\n"
    return body


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(out, "JPEG")
    return out.getvalue()


def make_association(tree: Any, region: Any = None, *, name: str = "新嘉街道老年人体育协会",
                     legal_status: str = LegalStatus.REGISTERED, manager: Any = None,
                     **fields: Any) -> tuple[Association, Any]:
    """An association of ``region`` (k2 by default) and the resident who manages it."""
    region = region or tree.k2
    manager = manager or tree.user(home_community=tree.k2, nickname="协会秘书长")
    association = Association.objects.create(name=name, legal_status=legal_status,
                                             kind=fields.pop("kind", "crowd"), region=region,
                                             members=1, **fields)
    # on the registry for two years already (so it reports on last year)
    Association.objects.filter(pk=association.pk).update(
        created_at=timezone.now() - dt.timedelta(days=730))
    association.refresh_from_db()
    AssociationMember.objects.create(association=association, user=manager, name="秘书长",
                                     office="secretary_general", manages=True)
    return association, manager


def annual_data(year: int | None = None, **over: Any) -> dict[str, Any]:
    year = year or timezone.localdate().year - 1
    return {"year": year, "activities": 12, "participants": 860, "income_yuan": 52000,
            "expenditure_yuan": 48000, "summary": "全年组织健身活动十二次", **over}


SAMPLE_DATA: dict[str, Any] = {
    "preparation": lambda a: {"proposed_name": a.name, "individual_members": 60,
                              "unit_members": 0, "funds_yuan": 30000, "address": "嘉兴市南湖区",
                              "founders": "张三、李四"},
    "filing": lambda a: {"members": 25, "leader": "王队长", "activity_place": "花园社区广场",
                         "activity_times": "每天清晨"},
    "annual_report": lambda a: annual_data(),
    "change": lambda a: {"item": "address", "new_value": "嘉兴市南湖区新嘉街道1号",
                         "reason": "办公地点搬迁"},
}


def submitted(association: Association, manager: Any, kind: str = "annual_report",
              data: dict[str, Any] | None = None, *, submit: bool = True) -> Application:
    """An application of ``kind`` with every required document, submitted (or a full draft)."""
    app = window.create_application(actor=manager, association_id=association.pk, kind=kind,
                                    data=data or SAMPLE_DATA[kind](association))
    for key in window.required_documents(app):
        window.attach_document(actor=manager, application_id=app.pk, requirement=key,
                               content=pdf())
    if submit:
        app = window.transition_application(actor=manager, application_id=app.pk,
                                            action="submit")
    return app
