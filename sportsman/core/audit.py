"""Writing the audit log: every staff write, and every staff view of a resident's personal data."""

from __future__ import annotations

from typing import Any

from sportsman.core.client import client_ip, user_agent
from sportsman.core.models import AuditEntry


def _client(request: Any) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    return client_ip(request), user_agent(request)


def record(*, actor: Any, action: str, kind: str = AuditEntry.Kind.WRITE, obj: Any = None,
           object_type: str = "", object_id: Any = "", region: Any = None, request: Any = None,
           data: dict | None = None) -> AuditEntry:
    """Append one entry. Call inside the service's transaction so a rolled-back change leaves
    no trace and a committed one always has its entry."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    ip, agent = _client(request)
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_label=str(actor_obj.pk) if actor_obj else "",
        kind=kind,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        region=region,
        ip=ip,
        user_agent=agent,
        data=data or {},
    )


def record_view(*, actor: Any, subject: Any, what: str, request: Any = None,
                region: Any = None) -> AuditEntry:
    """A staff member looked at ``subject``'s personal data (``what``: e.g. "phone")."""
    return record(actor=actor, action=f"view.{what}", kind=AuditEntry.Kind.VIEW, obj=subject,
                  region=region, request=request)
