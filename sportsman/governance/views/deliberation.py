"""Deliberation pages: residents' topics of my region (list, a topic with its discussion, vote
buttons, result, decision and follow-ups; proposing one), and the console's topics of the
current region's subtree (raise, open, close, decide, follow up, withdraw, the region's rule)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.governance import deliberation, proxy
from sportsman.governance.models import Choice, DeliberationRule, TopicStatus
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "governance"
PAGE = 20


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


@for_self
def topics(request: HttpRequest) -> HttpResponse:
    """Topics of my community and the regions above it, newest first."""
    status = request.GET.get("status", "")
    qs = deliberation.topics_for(request.user)
    if status in TopicStatus.values:
        qs = qs.filter(status=status)
    before = _int(request.GET.get("before"))
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[:PAGE + 1])
    return render(request, "governance/deliberation/topics.html", {
        "topics": rows[:PAGE], "next_before": rows[PAGE - 1].pk if len(rows) > PAGE else None,
        "status": status, "statuses": TopicStatus.choices,
        "home": request.user.home_community})  # type: ignore[union-attr]


@public
def topic(request: HttpRequest, topic_id: int) -> HttpResponse:
    """A topic, public: discussion, my vote, the result when shown, decision, follow-ups."""
    found = deliberation.visible_topic(topic_id)
    user = request.user
    eligible = deliberation.is_eligible(user, found.region)
    vote = deliberation.my_vote(user, found.pk)
    held = (list(proxy.grants_held(user)) if user.is_authenticated
            and found.status == TopicStatus.OPEN and proxy.proxy_votes_allowed(found.region)
            else [])
    result = deliberation.result_of(found)
    total = sum(result.values()) if result else 0
    return render(request, "governance/deliberation/topic.html", {
        "topic": found, "eligible": eligible, "vote": vote, "choices": Choice.choices,
        "result": result, "total": total,
        "shares": {k: round(v * 100 / total) if total else 0 for k, v in (result or {}).items()},
        "comments": list(deliberation.comments(found.pk)[:500]),
        "follow_ups": list(found.follow_ups.all()),
        "supported": deliberation.has_supported(user, found.pk), "proxies": held})


@for_self
@require_POST
def act(request: HttpRequest, topic_id: int) -> HttpResponse:
    """Vote, back a proposal, or comment, from the topic page's forms."""
    action = request.POST.get("action", "")
    if action == "vote":
        for_user = _int(request.POST.get("for_user"))
        deliberation.vote(actor=request.user, topic_id=topic_id,
                          choice=request.POST.get("choice", ""), for_user_id=for_user)
        messages.success(request, _("Your vote is counted. You may change it until the vote "
                                    "closes."))
    elif action == "support":
        deliberation.support(actor=request.user, topic_id=topic_id)
        messages.success(request, _("You back this proposal."))
    elif action == "comment":
        deliberation.comment(actor=request.user, topic_id=topic_id,
                             text=request.POST.get("text", ""))
        messages.success(request, _("Posted."))
    return HttpResponseRedirect(reverse("governance:topic", args=[topic_id]))


@for_self
def propose(request: HttpRequest) -> HttpResponse:
    home = request.user.home_community  # type: ignore[union-attr]
    regions = [*home.ancestors(), home] if home else []
    if request.method == "POST":
        made = deliberation.propose_topic(actor=request.user,
                                          title=request.POST.get("title", ""),
                                          body=request.POST.get("body", ""),
                                          region_id=_int(request.POST.get("region")))
        messages.success(request, _("Your proposal is up: ask your neighbours to back it."))
        return HttpResponseRedirect(reverse("governance:topic", args=[made.pk]))
    return render(request, "governance/deliberation/propose.html",
                  {"regions": list(reversed(regions))})


# --- console ----------------------------------------------------------------------------------------


@scoped(Perm.DELIBERATION_MANAGE)
def console(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    access = access_for(request)
    region = state.region
    qs = (deliberation.topics_in_scope(access).filter(subtree_q(region.path, "region"))
          .order_by("-id"))
    status = request.GET.get("status", "")
    if status in TopicStatus.values:
        qs = qs.filter(status=status)
    threshold, live = deliberation.rule_for(region)
    return _render(request, "governance/deliberation/console.html", state, SECTION,
                   topics=list(qs[:100]), status=status, statuses=TopicStatus.choices,
                   threshold=threshold, live=live,
                   own_rule=DeliberationRule.objects.filter(region=region).exists(),
                   can_manage=access.can(Perm.DELIBERATION_MANAGE, region))


@scoped(Perm.DELIBERATION_MANAGE)
def console_topic(request: HttpRequest, topic_id: int) -> HttpResponse:
    state = console_state(request)
    found = deliberation.staff_topic(request.user, topic_id)
    return _render(request, "governance/deliberation/console_topic.html", state, SECTION,
                   topic=found, result=deliberation.result_of(found, staff=True),
                   comments=list(deliberation.comments(found.pk)[:500]),
                   follow_ups=list(found.follow_ups.all()))


@scoped(Perm.DELIBERATION_MANAGE)
@require_POST
def console_raise(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    made = deliberation.raise_topic(actor=request.user, region_id=state.region.pk,
                                    title=request.POST.get("title", ""),
                                    body=request.POST.get("body", ""),
                                    open_now=request.POST.get("open_now") == "1",
                                    request=request)
    messages.success(request, _("Topic raised."))
    return HttpResponseRedirect(reverse("governance:console_topic", args=[made.pk]))


@scoped(Perm.DELIBERATION_MANAGE)
@require_POST
def console_act(request: HttpRequest, topic_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    kw: dict[str, Any] = {"actor": request.user, "topic_id": topic_id, "request": request}
    if action == "open":
        deliberation.open_topic(**kw)
    elif action == "close":
        deliberation.close_topic(**kw)
    elif action == "decide":
        deliberation.decide(decision=request.POST.get("text", ""), **kw)
    elif action == "follow_up":
        deliberation.add_follow_up(text=request.POST.get("text", ""), **kw)
    elif action == "withdraw":
        deliberation.withdraw(reason=request.POST.get("text", ""), **kw)
    else:
        return HttpResponseRedirect(reverse("governance:console_topic", args=[topic_id]))
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("governance:console_topic", args=[topic_id]))


@scoped(Perm.DELIBERATION_MANAGE)
@require_POST
def console_rule(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    raw = request.POST.get("support_threshold", "")
    deliberation.set_rule(actor=request.user, region_id=state.region.pk,
                          support_threshold=int(raw) if raw.isdigit() and len(raw) < 9 else 0,
                          show_results_live=request.POST.get("show_results_live") == "1",
                          request=request)
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("governance:console_topics") + "#rule")


urlpatterns: list[URLPattern] = [
    path("topics/", topics, name="topics"),
    path("topics/new/", propose, name="propose"),
    path("topics/<int:topic_id>/", topic, name="topic"),
    path("topics/<int:topic_id>/act/", act, name="topic_act"),
    path("console/topics/", console, name="console_topics"),
    path("console/topics/raise/", console_raise, name="console_raise"),
    path("console/topics/rule/", console_rule, name="console_topic_rule"),
    path("console/topics/<int:topic_id>/", console_topic, name="console_topic"),
    path("console/topics/<int:topic_id>/act/", console_act, name="console_topic_act"),
]
