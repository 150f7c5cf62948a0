"""Acting for others (代办): who may act for whom, and the one check every governance service
makes before writing for someone else.

A service that accepts ``for_user_id`` calls :func:`acting` first: it answers the user the record
is for (``subject``) and who acted (``acted_by``: None when the actor acts for themself). Records
store both, so every record says who acted for whom. Deliberation votes also ask
:func:`proxy_votes_allowed` for the topic's region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.governance.models import ProxyGrant, ProxyVoteRule, Relation
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region


class NotAuthorisedToAct(Forbidden):
    code = "proxy_not_authorised"
    default_message = gettext_lazy("You have not been authorised to act for this resident.")


class ProxyVoteNotAllowed(Forbidden):
    code = "proxy_vote_not_allowed"
    default_message = gettext_lazy("This region does not allow voting for someone else.")


class AlreadyAuthorised(Conflict):
    code = "proxy_already_authorised"
    default_message = gettext_lazy("This person can already act for this resident.")


@dataclass(frozen=True)
class Acting:
    subject: Any  # the user the record is for
    acted_by: Any  # who acted, or None when the subject acted themself

    @property
    def acted_by_id(self) -> int | None:
        return self.acted_by.pk if self.acted_by is not None else None


def acting(actor: Any, for_user_id: int | None) -> Acting:
    """Who a write is for. ``for_user_id`` None (or the actor's own id) is the actor acting for
    themself; otherwise the actor needs an active grant from that resident."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        from sportsman.core.errors import NotAuthenticated

        raise NotAuthenticated()
    if for_user_id is None or for_user_id == actor.pk:
        return Acting(subject=actor, acted_by=None)
    grant = (ProxyGrant.objects.select_related("principal__home_community")
             .filter(agent=actor, principal_id=for_user_id, revoked_at=None).first())
    if grant is None or not grant.principal.is_active:
        raise NotAuthorisedToAct()
    return Acting(subject=grant.principal, acted_by=actor)


def proxy_votes_allowed(region: Region | None) -> bool:
    """The nearest :class:`ProxyVoteRule` at or above ``region``; False without one."""
    from sportsman.regions.selectors import nearest_rule

    rule = nearest_rule(ProxyVoteRule.objects.all(), region)
    return rule is not None and rule.allow_proxy_votes


def grants_held(agent: Any) -> QuerySet[ProxyGrant]:
    """The residents ``agent`` may act for."""
    return (ProxyGrant.objects.select_related("principal").filter(agent=agent, revoked_at=None)
            .order_by("principal_id"))


def grants_given(principal: Any) -> QuerySet[ProxyGrant]:
    return (ProxyGrant.objects.select_related("agent").filter(principal=principal,
                                                               revoked_at=None)
            .order_by("agent_id"))


def grants_in_scope(access: Access) -> QuerySet[ProxyGrant]:
    return access.scope(ProxyGrant.objects.select_related("principal", "agent")
                        .filter(revoked_at=None),
                        Perm.PROXY_MANAGE, field="principal__home_community")


def _user_by_phone(phone: str) -> Any:
    from sportsman.accounts.services import normalise_phone
    from sportsman.core.crypto import keyed_hash

    try:
        number = normalise_phone(phone)
    except InvalidInput:
        number = ""
    user = (get_user_model().objects.filter(phone_hash=keyed_hash(number), is_active=True).first()
            if number else None)
    if user is None:
        raise InvalidInput(code="user_not_found",
                           fields={"phone": [gettext_lazy("No resident has this phone number.")]})
    return user


def grant(*, actor: Any, agent_phone: str, relation: str, principal_id: int | None = None) \
        -> ProxyGrant:
    """Authorise the resident with ``agent_phone`` to act for ``principal_id`` (the actor
    themself when None). Staff with PROXY_MANAGE over the principal's community may record it
    for a resident who came in person; that write is audited."""
    if relation not in Relation.values:
        raise InvalidInput(code="invalid_relation",
                           fields={"relation": [gettext_lazy("Unknown relation.")]})
    agent = _user_by_phone(agent_phone)
    if principal_id is None or principal_id == actor.pk:
        principal, recorded_by = actor, None
    else:
        principal = (get_user_model().objects.select_related("home_community")
                     .filter(pk=principal_id, is_active=True).first())
        if principal is None:
            raise NotFound()
        access_for_user(actor).require(Perm.PROXY_MANAGE, principal.home_community)
        recorded_by = actor
    if agent.pk == principal.pk:
        raise InvalidInput(code="proxy_self",
                           fields={"phone": [gettext_lazy("You cannot authorise yourself.")]})
    try:
        with transaction.atomic():
            made = ProxyGrant.objects.create(principal=principal, agent=agent, relation=relation,
                                             recorded_by=recorded_by)
            if recorded_by is not None:
                audit.record(actor=actor, action="governance.proxy.grant", obj=made,
                             region=principal.home_community,
                             data={"principal_id": principal.pk, "agent_id": agent.pk,
                                   "relation": relation})
    except IntegrityError as exc:
        raise AlreadyAuthorised() from exc
    return made


def revoke(*, actor: Any, grant_id: int) -> None:
    """End a grant: the principal, the agent (stepping down) or staff over the principal's
    community. Idempotent: revoking an ended grant changes nothing."""
    with transaction.atomic():
        found = (ProxyGrant.objects.select_for_update(of=("self",))
                 .select_related("principal__home_community").filter(pk=grant_id).first())
        if found is None:
            raise NotFound()
        own = actor.pk in (found.principal_id, found.agent_id)
        if not own and not access_for_user(actor).can(Perm.PROXY_MANAGE,
                                                      found.principal.home_community):
            raise NotFound()
        if found.revoked_at is not None:
            return
        found.revoked_at = timezone.now()
        found.save(update_fields=["revoked_at", "updated_at"])
        if not own:
            audit.record(actor=actor, action="governance.proxy.revoke", obj=found,
                         region=found.principal.home_community,
                         data={"principal_id": found.principal_id, "agent_id": found.agent_id})
