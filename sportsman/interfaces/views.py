"""The console's webhook pages (WEBHOOK_MANAGE, laptop): the subscriptions of the current
region's subtree and a new one; a subscription's page with its settings, secret rotation,
disable / enable, the delivery log (filters by status and type), one delivery's attempts, and
replays. A secret is shown on the page answering the POST that made it, never stored in a
message or the session."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.interfaces import webhooks
from sportsman.interfaces.catalogue import TYPES
from sportsman.interfaces.models import DeliveryStatus, SubscriptionStatus, WebhookSubscription
from sportsman.regions.access import Perm, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import ConsoleState, _render, console_state

SECTION = "webhooks"


def _int(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else 0


def _regions(state: ConsoleState) -> list:
    return list(state.access.regions(Perm.WEBHOOK_MANAGE).filter(subtree_q(state.region.path))
                .order_by("path")[:300])


@scoped(Perm.WEBHOOK_MANAGE)
def subscriptions(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    status = request.GET.get("status", "")
    rows = webhooks.subscriptions_for(state.access, region=state.region,
                                      status=status or None)
    return _render(request, "interfaces/console/list.html", state, SECTION,
                   subscriptions=list(rows[:300]), status=status,
                   statuses=SubscriptionStatus.choices, types=TYPES, regions=_regions(state))


@scoped(Perm.WEBHOOK_MANAGE)
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    sub, secret = webhooks.create_subscription(
        access=state.access, region_id=_int(request.POST.get("region_id")),
        name=request.POST.get("name", ""), url=request.POST.get("url", ""),
        event_types=request.POST.getlist("event_types"), request=request)
    return _detail(request, state, sub, secret=secret)


@scoped(Perm.WEBHOOK_MANAGE)
def detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    state = console_state(request)
    sub = webhooks.in_scope(state.access, subscription_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "edit":
            webhooks.update_subscription(
                access=state.access, subscription_id=sub.pk, name=request.POST.get("name", ""),
                url=request.POST.get("url", ""),
                event_types=request.POST.getlist("event_types"), request=request)
            messages.success(request, _("Saved."))
        elif action == "rotate":
            sub, secret = webhooks.rotate_secret(access=state.access, subscription_id=sub.pk,
                                                 request=request)
            return _detail(request, state, sub, secret=secret)
        elif action in ("enable", "disable"):
            webhooks.set_enabled(access=state.access, subscription_id=sub.pk,
                                 enabled=action == "enable", request=request)
            messages.success(request, _("Saved."))
        elif action == "replay":
            webhooks.replay_delivery(access=state.access, subscription_id=sub.pk,
                                     delivery_id=_int(request.POST.get("delivery_id")),
                                     request=request)
            messages.success(request, _("The delivery will be sent again."))
        elif action == "replay_failed":
            count = webhooks.replay_failed(access=state.access, subscription_id=sub.pk,
                                           request=request)
            messages.success(request, _("%(count)d failed deliveries will be sent again.")
                             % {"count": count})
        return HttpResponseRedirect(request.get_full_path())
    return _detail(request, state, sub)


def _detail(request: HttpRequest, state: ConsoleState, sub: WebhookSubscription,
            secret: str | None = None) -> HttpResponse:
    status = request.GET.get("status", "")
    event_type = request.GET.get("type", "")
    before = _int(request.GET.get("before"))
    rows = webhooks.deliveries_for(state.access, sub.pk, status=status or None,
                                   event_type=event_type or None, before=before or None,
                                   limit=51)
    chosen = None
    if (delivery_id := _int(request.GET.get("delivery"))):
        chosen = webhooks.delivery_in_scope(state.access, sub.pk, delivery_id)
    return _render(request, "interfaces/console/detail.html", state, SECTION, sub=sub,
                   secret=secret, deliveries=rows[:50],
                   next_before=rows[49].pk if len(rows) > 50 else None, status=status,
                   event_type=event_type, statuses=DeliveryStatus.choices, types=TYPES,
                   chosen=chosen,
                   attempts=list(chosen.attempt_log.order_by("-at", "-id")[:50]) if chosen
                   else [])


urlpatterns: list[URLPattern] = [
    path("webhooks/", subscriptions, name="webhooks"),
    path("webhooks/new", create, name="webhook_create"),
    path("webhooks/<int:subscription_id>/", detail, name="webhook"),
]
