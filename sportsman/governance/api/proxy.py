"""Acting for others (代办): grants given and held, staff recording grants for residents."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In, Ok
from sportsman.governance import proxy
from sportsman.governance.models import ProxyGrant
from sportsman.regions.access import for_self

router = Router(tags=["acting for others"])


class GrantOut(Schema):
    id: int
    principal_id: int
    principal: str
    agent_id: int
    agent: str
    relation: str
    created_at: dt.datetime


class GrantIn(In):
    agent_phone: str = Field(..., max_length=20)
    relation: str = Field(..., max_length=12)
    principal_id: int | None = Field(None, ge=1, lt=2**63)


class GrantsOut(Schema):
    given: list[GrantOut]
    held: list[GrantOut]


def _out(g: ProxyGrant) -> GrantOut:
    return GrantOut(id=g.pk, principal_id=g.principal_id, principal=g.principal.nickname,
                    agent_id=g.agent_id, agent=g.agent.nickname, relation=g.relation,
                    created_at=g.created_at)


@router.get("/proxies", response=GrantsOut)
@for_self
def my_grants(request: HttpRequest) -> GrantsOut:
    """Who may act for me (``given``), and whom I may act for (``held``)."""
    return GrantsOut(given=[_out(g) for g in proxy.grants_given(request.user)],
                     held=[_out(g) for g in proxy.grants_held(request.user)])


@router.post("/proxies", response={201: GrantOut})
@for_self
@idempotent
def create_grant(request: HttpRequest, body: GrantIn):
    """Authorise someone (by phone) to act for me; staff over a resident's community may record
    it for them (``principal_id``)."""
    made = proxy.grant(actor=request.user, agent_phone=body.agent_phone, relation=body.relation,
                       principal_id=body.principal_id)
    made = ProxyGrant.objects.select_related("principal", "agent").get(pk=made.pk)
    return Status(201, _out(made))


@router.delete("/proxies/{grant_id}", response=Ok)
@for_self
def revoke_grant(request: HttpRequest, grant_id: int) -> Ok:
    proxy.revoke(actor=request.user, grant_id=grant_id)
    return Ok()
