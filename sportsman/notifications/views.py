"""My notifications: the inbox (mark read, mark all read) and my delivery preferences."""

from __future__ import annotations

from datetime import time

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError
from sportsman.notifications import backends, selectors, services
from sportsman.notifications.categories import Channel
from sportsman.regions.access import for_self

PAGE_SIZE = 20


@for_self
def inbox(request: HttpRequest) -> HttpResponse:
    cursor = request.GET.get("cursor") or None
    page = selectors.list_inbox(request.user, cursor=cursor, limit=PAGE_SIZE)
    return render(request, "notifications/inbox.html", {"page": page})


@for_self
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    services.mark_read(request.user, ids)
    return HttpResponseRedirect(reverse("notifications:inbox"))


@for_self
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(request.user)
    messages.success(request, _("All notifications are marked as read."))
    return HttpResponseRedirect(reverse("notifications:inbox"))


class QuietHoursForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("Hold messages during quiet hours"),
                                 required=False)
    start = forms.TimeField(label=gettext_lazy("Quiet from"),
                            widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label=gettext_lazy("Quiet until"),
                          widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    email = forms.EmailField(label=gettext_lazy("Email address for email notifications"),
                             required=False)


def _pref_field(category: str, channel: str) -> str:
    return f"pref-{category}-{channel}"


@for_self
def preferences(request: HttpRequest) -> HttpResponse:
    """Per category and channel on/off (urgent channels shown locked on), quiet hours and the
    email address; each saved through the notifications services."""
    user = request.user
    prefs = services.get_preferences(user)
    qh = services.get_quiet_hours(user)
    email = services.get_notification_settings(user).email
    if request.method == "POST":
        form = QuietHoursForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changes = [(p.category, ch, request.POST.get(_pref_field(p.category, ch)) == "on")
                       for p in prefs for ch in p.channels if ch not in p.locked]
            try:
                with transaction.atomic():
                    services.set_preferences(user=user, changes=changes)
                    services.set_quiet_hours(user=user, enabled=data["enabled"],
                                             start=data["start"], end=data["end"])
                    services.set_email(user=user, email=data["email"] or "")
            except DomainError as exc:
                for name, msgs in (exc.fields or {}).items():
                    for msg in msgs if isinstance(msgs, list | tuple) else [msgs]:
                        form.add_error(name if name in form.fields else None, str(msg))
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Your notification settings have been saved."))
                return HttpResponseRedirect(reverse("notifications:preferences"))
    else:
        form = QuietHoursForm(initial={"enabled": qh.enabled, "start": _hhmm(qh.start),
                                       "end": _hhmm(qh.end), "email": email})
    channel_labels = dict(Channel.choices)
    rows = [{
        "label": p.label,
        "urgent": p.urgent,
        "boxes": [{"name": _pref_field(p.category, ch), "label": channel_labels.get(ch, ch),
                   "on": on, "locked": ch in p.locked} for ch, on in p.channels.items()],
    } for p in prefs]
    return render(request, "notifications/preferences.html", {
        "form": form, "rows": rows, "vapid_public_key": backends.vapid_public_key()})


def _hhmm(value: time | str) -> str:
    return value.strftime("%H:%M") if isinstance(value, time) else str(value)[:5]
