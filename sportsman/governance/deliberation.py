"""Deliberation (在线议事): topics of a region, from proposal to follow-up.

Workflow (``TRANSITIONS``, enforced by ``core.db.transition``: one conditional UPDATE each)::

    proposed ──(staff open, once the proposal has its supporters)──▶ open ──▶ closed ──▶ decided
        └──▶ withdrawn

- A resident whose home community lies in the region proposes a topic; eligible residents back
  it (once each). The threshold is the nearest ``DeliberationRule`` up the tree (default 20),
  fixed on the topic when proposed. Reaching it tells the region's own staff.
- Staff with DELIBERATION_MANAGE over the region raise a topic (open at once or kept proposed),
  open it (the region's residents are told, in batches, by a task after commit), close the vote
  (the result is frozen on the topic), record the decision and follow-ups. Every staff write is
  audited.
- Eligible voter: an active resident whose home community lies in the topic's region subtree.
  One ``Vote`` row per resident and topic (unique constraint); a changed mind UPDATEs that row
  until the vote closes. Nobody votes for someone else unless ``proxy.proxy_votes_allowed`` says
  so for the region; then the row records ``acted_by``.

Concurrency: a vote holds a SHARE lock on its topic's row (PostgreSQL ``FOR SHARE``), so votes
run side by side while closing (an UPDATE of that row) waits for them and counts every vote that
committed; a vote arriving after the close finds it closed. On SQLite write transactions run one
at a time, which gives the same order.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.db import transition
from sportsman.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from sportsman.governance import moderation, proxy
from sportsman.governance.models import (
    Choice,
    DeliberationRule,
    FollowUp,
    Topic,
    TopicComment,
    TopicStatus,
    TopicSupport,
    Vote,
)
from sportsman.governance.models.deliberation import DEFAULT_SUPPORT_THRESHOLD
from sportsman.regions.access import Access, Perm, access_for_user, own_holders
from sportsman.regions.models import Region, subtree_q

S = TopicStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.OPEN, S.WITHDRAWN}),
    S.OPEN: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.DECIDED}),
    S.DECIDED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
STAMPS: dict[str, str] = {S.OPEN: "opened_at", S.CLOSED: "closed_at", S.DECIDED: "decided_at",
          S.WITHDRAWN: "withdrawn_at"}
PUSH_BATCH = 5000  # residents told per notify() call when a topic opens
MAX_THRESHOLD = 100_000
PROPOSAL_LIMITS = moderation.POST_LIMITS
COMMENT_LIMITS = moderation.COMMENT_LIMITS


class TopicNotFound(NotFound):
    code = "topic_not_found"
    default_message = gettext_lazy("No such topic.")


class BadTransition(Conflict):
    code = "topic_bad_transition"
    default_message = gettext_lazy("The topic is not in a state that allows this.")


class NotEligible(Forbidden):
    code = "not_eligible"
    default_message = gettext_lazy("Only residents of the topic's region may take part.")


class VoteClosed(Conflict):
    code = "vote_closed"
    default_message = gettext_lazy("The vote on this topic is not open.")


class NotProposed(Conflict):
    code = "topic_not_proposed"
    default_message = gettext_lazy("Only a proposal gathering support can be backed.")


class AlreadySupported(Conflict):
    code = "already_supported"
    default_message = gettext_lazy("You already back this proposal.")


class ThresholdNotReached(Conflict):
    code = "support_threshold_not_reached"
    default_message = gettext_lazy("This proposal does not have enough supporters yet.")


class DiscussionClosed(Conflict):
    code = "discussion_closed"
    default_message = gettext_lazy("The discussion of this topic is closed.")


# --- rules ----------------------------------------------------------------------------------------


def rule_for(region: Region) -> tuple[int, bool]:
    """(support threshold, show results live) of the nearest rule at or above ``region``."""
    from sportsman.regions.selectors import nearest_rule

    rule = nearest_rule(DeliberationRule.objects.all(), region)
    if rule is None:
        return DEFAULT_SUPPORT_THRESHOLD, False
    return rule.support_threshold, rule.show_results_live


def set_rule(*, actor: Any, region_id: int, support_threshold: int, show_results_live: bool,
             request: Any = None) -> DeliberationRule:
    """Staff with DELIBERATION_MANAGE over a region set its rule (audited). Topics already
    proposed keep the threshold they were proposed with."""
    region = Region.objects.filter(pk=region_id).first()
    access_for_user(actor).require(Perm.DELIBERATION_MANAGE, region)
    if not 1 <= support_threshold <= MAX_THRESHOLD:
        raise InvalidInput(code="invalid_threshold", fields={
            "support_threshold": [_("Between 1 and %(n)d.") % {"n": MAX_THRESHOLD}]})
    with transaction.atomic():
        rule, _created = DeliberationRule.objects.update_or_create(
            region=region, defaults={"support_threshold": support_threshold,
                                     "show_results_live": show_results_live})
        audit.record(actor=actor, action="governance.deliberation.rule", obj=rule,
                     region=region, request=request,
                     data={"support_threshold": support_threshold,
                           "show_results_live": show_results_live})
    return rule


# --- reading ------------------------------------------------------------------------------------


def eligible_residents(region: Region) -> QuerySet[Any]:
    """Active residents whose home community lies in ``region``'s subtree."""
    return (get_user_model().objects.filter(is_active=True)
            .filter(subtree_q(region.path, "home_community")))


def is_eligible(user: Any, region: Region) -> bool:
    home = getattr(user, "home_community", None)
    return bool(user is not None and user.is_authenticated and user.is_active and home is not None
                and home.path.startswith(region.path))


def get_topic(topic_id: int) -> Topic:
    topic = Topic.objects.select_related("region").filter(pk=topic_id).first()
    if topic is None:
        raise TopicNotFound()
    return topic


def visible_topic(topic_id: int) -> Topic:
    """Topics are public: everyone may read them, their discussion, result and follow-ups."""
    return get_topic(topic_id)


def topics_for(user: Any) -> QuerySet[Topic]:
    """Topics of the regions my home community lies in (my community and every level above),
    newest first; none without a home community."""
    home = getattr(user, "home_community", None)
    if home is None:
        return Topic.objects.none()
    return (Topic.objects.filter(region_id__in=[*home.ancestor_ids, home.pk])
            .exclude(status=S.WITHDRAWN).select_related("region").order_by("-id"))


def topics_in_scope(access: Access) -> QuerySet[Topic]:
    return access.scope(Topic.objects.select_related("region"), Perm.DELIBERATION_MANAGE)


def staff_topic(actor: Any, topic_id: int, *, lock: bool = False) -> Topic:
    qs = topics_in_scope(access_for_user(actor))
    if lock:
        qs = qs.select_for_update(of=("self",))
    topic = qs.filter(pk=topic_id).first()
    if topic is None:
        raise TopicNotFound()
    return topic


def live_counts(topic_id: int) -> dict[str, int]:
    """The running count of an open vote (one query)."""
    row = Vote.objects.filter(topic_id=topic_id).aggregate(
        support=Count("id", filter=Q(choice=Choice.SUPPORT)),
        oppose=Count("id", filter=Q(choice=Choice.OPPOSE)),
        abstain=Count("id", filter=Q(choice=Choice.ABSTAIN)))
    return {k: int(v or 0) for k, v in row.items()}


def result_of(topic: Topic, *, staff: bool = False) -> dict[str, int] | None:
    """What may be shown of the vote: the frozen result once closed; the running count while
    open when the topic shows it live (staff always see it); nothing before."""
    if topic.status in (S.CLOSED, S.DECIDED):
        return {"support": topic.votes_support, "oppose": topic.votes_oppose,
                "abstain": topic.votes_abstain}
    if topic.status == S.OPEN and (topic.show_results_live or staff):
        return live_counts(topic.pk)
    return None


def my_vote(user: Any, topic_id: int) -> Vote | None:
    if user is None or not user.is_authenticated:
        return None
    return Vote.objects.filter(topic_id=topic_id, user_id=user.pk).first()


def has_supported(user: Any, topic_id: int) -> bool:
    return bool(user is not None and user.is_authenticated
                and TopicSupport.objects.filter(topic_id=topic_id, user_id=user.pk).exists())


def comments(topic_id: int) -> QuerySet[TopicComment]:
    return (TopicComment.objects.filter(topic_id=topic_id, hidden_at=None)
            .select_related("author").order_by("id"))


# --- residents ------------------------------------------------------------------------------------


def _clean_topic(title: str, body: str) -> tuple[str, str]:
    return (moderation.clean_text(title, field="title", max_length=80),
            moderation.clean_text(body, field="body", max_length=4000))


def propose_topic(*, actor: Any, title: str, body: str, region_id: int | None = None) -> Topic:
    """A resident proposes a topic for their community (or, with ``region_id``, a region above
    it); it gathers support until it reaches its threshold and staff open it."""
    home = getattr(actor, "home_community", None)
    if home is None:
        raise NotEligible()
    region = home if region_id is None else Region.objects.filter(pk=region_id).first()
    if region is None or not is_eligible(actor, region):
        raise NotEligible()
    title, body = _clean_topic(title, body)
    threshold, live = rule_for(region)
    with transaction.atomic():
        moderation.refuse_too_fast(Topic.objects.filter(proposed_by_id=actor.pk),
                                   PROPOSAL_LIMITS)
        return Topic.objects.create(region=region, title=title, body=body, proposed_by=actor,
                                    support_threshold=threshold, show_results_live=live)


def support(*, actor: Any, topic_id: int) -> Topic:
    """An eligible resident backs a proposal (once: ``already_supported``). The supporters
    counter moves by one conditional UPDATE; the one reaching the threshold stamps it and the
    region's own staff are told after commit."""
    topic = get_topic(topic_id)
    if not is_eligible(actor, topic.region):
        raise NotEligible()
    with transaction.atomic():
        if not Topic.objects.filter(pk=topic.pk, status=S.PROPOSED).exists():
            raise NotProposed()
        try:
            with transaction.atomic():
                TopicSupport.objects.create(topic=topic, user=actor)
        except IntegrityError as exc:
            raise AlreadySupported() from exc
        Topic.objects.filter(pk=topic.pk).update(supporters=F("supporters") + 1)
        reached = Topic.objects.filter(pk=topic.pk, threshold_reached_at=None,
                                       supporters__gte=F("support_threshold")).update(
            threshold_reached_at=timezone.now())
        if reached:
            transaction.on_commit(partial(_tell_staff_threshold, topic.pk))
    topic.refresh_from_db()
    return topic


def _tell_staff_threshold(topic_id: int) -> None:
    from sportsman.notifications.services import notify

    topic = Topic.objects.filter(pk=topic_id).first()
    if topic is None:
        return
    ids = own_holders(Perm.DELIBERATION_MANAGE, [topic.region_id])[topic.region_id]
    if not ids:
        return
    notify(users=get_user_model().objects.filter(pk__in=ids), category="governance",
           title=(_("A proposal has its supporters: %(title)s") % {"title": topic.title})[:120],
           link=reverse("governance:topic", args=[topic.pk]),
           dedupe_key=f"topic:{topic.pk}:threshold", data={"topic_id": topic.pk})


def _lock_open(topic_id: int) -> None:
    """Inside a vote's transaction: a shared lock on an open topic's row (see the module
    docstring), or ``vote_closed``."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Topic._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT status FROM {table} WHERE id = %s FOR SHARE",  # noqa: S608
                           [topic_id])
            row = cursor.fetchone()
        status = row[0] if row else None
    else:
        status = Topic.objects.filter(pk=topic_id).values_list("status", flat=True).first()
    if status != S.OPEN:
        raise VoteClosed()


def vote(*, actor: Any, topic_id: int, choice: str, for_user_id: int | None = None) -> Vote:
    """Cast or change a vote (``support`` / ``oppose`` / ``abstain``) on an open topic. The
    voter (the actor, or with ``for_user_id`` the resident they act for, where the region allows
    proxy votes) must be eligible. One row per voter: a second vote UPDATEs it, two racing
    first votes leave one row."""
    if choice not in Choice.values:
        raise InvalidInput(code="invalid_choice",
                           fields={"choice": [_("Support, oppose or abstain.")]})
    topic = get_topic(topic_id)
    if for_user_id is not None and for_user_id != actor.pk \
            and not proxy.proxy_votes_allowed(topic.region):
        raise proxy.ProxyVoteNotAllowed()
    who = proxy.acting(actor, for_user_id)
    voter = who.subject
    if not is_eligible(voter, topic.region):
        raise NotEligible()
    now = timezone.now()
    with transaction.atomic():
        _lock_open(topic.pk)
        mine = Vote.objects.filter(topic_id=topic.pk, user_id=voter.pk)
        if not mine.update(choice=choice, acted_by=who.acted_by, updated_at=now):
            try:
                with transaction.atomic():
                    Vote.objects.create(topic_id=topic.pk, user=voter, choice=choice,
                                        acted_by=who.acted_by, created_at=now, updated_at=now)
            except IntegrityError:
                # the same voter's other request inserted first: this one is a change of mind
                mine.update(choice=choice, acted_by=who.acted_by, updated_at=now)
    return Vote.objects.get(topic_id=topic.pk, user_id=voter.pk)


def comment(*, actor: Any, topic_id: int, text: str) -> TopicComment:
    """An eligible resident, or staff over the region, joins the discussion of a proposed or
    open topic. Rate-limited; checked against the sensitive-word list."""
    topic = get_topic(topic_id)
    staff = access_for_user(actor).can(Perm.DELIBERATION_MANAGE, topic.region)
    if not staff and not is_eligible(actor, topic.region):
        raise NotEligible()
    if topic.status not in (S.PROPOSED, S.OPEN):
        raise DiscussionClosed()
    text = moderation.clean_text(text, field="text", max_length=1000)
    with transaction.atomic():
        moderation.refuse_too_fast(TopicComment.objects.filter(author_id=actor.pk),
                                   COMMENT_LIMITS)
        return TopicComment.objects.create(topic=topic, author=actor, text=text, is_staff=staff)


# --- staff ----------------------------------------------------------------------------------------


def _move(topic: Topic, to: str) -> Topic:
    return transition(topic, to, table=TRANSITIONS, stamps=STAMPS, error=BadTransition)


def raise_topic(*, actor: Any, region_id: int, title: str, body: str, open_now: bool = True,
                vote_closes_at: dt.datetime | None = None, request: Any = None) -> Topic:
    """Staff raise a topic for a region in their scope: opened at once (and pushed) or kept as
    a proposal to open later (staff topics need no supporters). Audited."""
    region = Region.objects.filter(pk=region_id).first()
    access_for_user(actor).require(Perm.DELIBERATION_MANAGE, region)
    assert region is not None
    title, body = _clean_topic(title, body)
    _check_closes(vote_closes_at)
    threshold, live = rule_for(region)
    with transaction.atomic():
        topic = Topic.objects.create(region=region, title=title, body=body, raised_by=actor,
                                     support_threshold=threshold, show_results_live=live,
                                     vote_closes_at=vote_closes_at)
        audit.record(actor=actor, action="governance.topic.raise", obj=topic, region=region,
                     request=request, data={"open": open_now})
        if open_now:
            _open(actor, topic, request)
    return topic


def _check_closes(at: dt.datetime | None) -> None:
    if at is not None and at <= timezone.now():
        raise InvalidInput(code="closes_in_past",
                           fields={"vote_closes_at": [_("Choose a time in the future.")]})


def _open(actor: Any, topic: Topic, request: Any) -> Topic:
    eligible = eligible_residents(topic.region).count()
    _move(topic, S.OPEN)
    Topic.objects.filter(pk=topic.pk).update(eligible_at_open=eligible)
    topic.eligible_at_open = eligible
    audit.record(actor=actor, action="governance.topic.open", obj=topic, region=topic.region,
                 request=request, data={"eligible": eligible})
    transaction.on_commit(partial(_queue_push, topic.pk))
    return topic


def open_topic(*, actor: Any, topic_id: int, vote_closes_at: dt.datetime | None = None,
               request: Any = None) -> Topic:
    """Open a proposal for discussion and vote: a resident's proposal only once it has its
    supporters. The region's residents are told after commit. Audited."""
    _check_closes(vote_closes_at)
    with transaction.atomic():
        topic = staff_topic(actor, topic_id, lock=True)
        if topic.status == S.PROPOSED and topic.raised_by_id is None \
                and topic.supporters < topic.support_threshold:
            raise ThresholdNotReached()
        if vote_closes_at is not None:
            Topic.objects.filter(pk=topic.pk).update(vote_closes_at=vote_closes_at)
            topic.vote_closes_at = vote_closes_at
        return _open(actor, topic, request)


def close_topic(*, actor: Any, topic_id: int, request: Any = None) -> Topic:
    """Close the vote: the result (and the number of eligible residents) is frozen on the
    topic; votes can no longer change. Audited."""
    with transaction.atomic():
        topic = staff_topic(actor, topic_id)
        counts, eligible = _close(topic)
        audit.record(actor=actor, action="governance.topic.close", obj=topic,
                     region=topic.region, request=request, data={**counts, "eligible": eligible})
    return topic


def _close(topic: Topic) -> tuple[dict[str, int], int]:
    """Close the vote and freeze its result on the topic (inside the caller's transaction)."""
    _move(topic, S.CLOSED)  # waits for votes in flight (their SHARE locks)
    counts = live_counts(topic.pk)
    eligible = eligible_residents(topic.region).count()
    Topic.objects.filter(pk=topic.pk).update(
        votes_support=counts["support"], votes_oppose=counts["oppose"],
        votes_abstain=counts["abstain"], eligible=eligible)
    topic.refresh_from_db()
    return counts, eligible


def close_due(*, now: dt.datetime | None = None) -> int:
    """Close the open topics whose vote closing time has passed (the scheduler's job): as a
    staff close does, without an actor. Returns how many closed."""
    now = now or timezone.now()
    closed = 0
    for topic in Topic.objects.filter(status=S.OPEN, vote_closes_at__lte=now).order_by("id"):
        with transaction.atomic():
            try:
                _close(topic)
            except DomainError:
                continue  # closed by staff in between
        closed += 1
    return closed


def decide(*, actor: Any, topic_id: int, decision: str, request: Any = None) -> Topic:
    """Record the decision taken on a closed topic (public). Audited."""
    decision = moderation.clean_text(decision, field="decision", max_length=4000)
    with transaction.atomic():
        topic = staff_topic(actor, topic_id)
        _move(topic, S.DECIDED)
        Topic.objects.filter(pk=topic.pk).update(decision=decision, decided_by=actor)
        topic.decision, topic.decided_by = decision, actor
        audit.record(actor=actor, action="governance.topic.decide", obj=topic,
                     region=topic.region, request=request)
    return topic


def add_follow_up(*, actor: Any, topic_id: int, text: str, request: Any = None) -> FollowUp:
    """A follow-up entry on a decided topic: what was done since (public). Audited."""
    text = moderation.clean_text(text, field="text", max_length=2000)
    with transaction.atomic():
        topic = staff_topic(actor, topic_id)
        if topic.status != S.DECIDED:
            raise BadTransition()
        row = FollowUp.objects.create(topic=topic, text=text, author=actor)
        audit.record(actor=actor, action="governance.topic.follow_up", obj=row,
                     region=topic.region, request=request, data={"topic": topic.pk})
    return row


def withdraw(*, actor: Any, topic_id: int, reason: str, request: Any = None) -> Topic:
    """Staff withdraw a proposal that will not go to a vote (with a reason). Audited."""
    reason = moderation.clean_text(reason, field="reason", max_length=200)
    with transaction.atomic():
        topic = staff_topic(actor, topic_id)
        _move(topic, S.WITHDRAWN)
        Topic.objects.filter(pk=topic.pk).update(withdraw_reason=reason)
        topic.withdraw_reason = reason
        audit.record(actor=actor, action="governance.topic.withdraw", obj=topic,
                     region=topic.region, request=request, data={"reason": reason})
    return topic


# --- telling the region -------------------------------------------------------------------------


def _queue_push(topic_id: int) -> None:
    from sportsman.governance.deliberation_tasks import push_opened_topic

    push_opened_topic.enqueue(topic_id)


def push_opened(topic_id: int, *, batch: int = PUSH_BATCH) -> int:
    """Tell the eligible residents of an open topic's region, ``batch`` at a time by id
    (keyset), each batch one ``notify()``. Retry-safe: the dedupe key tells nobody twice.
    Returns how many were told."""
    from sportsman.notifications.services import notify

    topic = Topic.objects.select_related("region").filter(pk=topic_id, status=S.OPEN).first()
    if topic is None:
        return 0
    title = (_("Have your say: %(title)s") % {"title": topic.title})[:120]
    body = _("A topic for %(region)s is open for discussion and vote.") % {
        "region": topic.region.name}
    link = reverse("governance:topic", args=[topic.pk])
    told, after = 0, 0
    residents = eligible_residents(topic.region).order_by("pk")
    while True:
        ids = list(residents.filter(pk__gt=after).values_list("pk", flat=True)[:batch])
        if not ids:
            return told
        told += notify(users=get_user_model().objects.filter(pk__in=ids), category="governance",
                       title=title, body=body, link=link, dedupe_key=f"topic:{topic.pk}:open",
                       data={"topic_id": topic.pk})
        after = ids[-1]
