"""Information board pages (信息发布): the console's notices (publish, acknowledgement status,
remind) and the association managers' notices to acknowledge (mobile first)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.associations import board
from sportsman.associations.evaluation import FILE_MAX_BYTES, Upload
from sportsman.associations.models import AssociationKind, NoticeKind
from sportsman.regions.access import Perm, for_self, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "notices"


@scoped(Perm.BOARD_PUBLISH)
def console(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    here = subtree_q(state.region.path, "region")
    notices = list(board.notices_in_scope(state.access).filter(here)
                   .order_by("-published_at", "-id")[:200])
    return _render(request, "associations/board/console.html", state, SECTION, notices=notices,
                   kinds=NoticeKind.choices, association_kinds=AssociationKind.choices,
                   can_publish=state.access.can(Perm.BOARD_PUBLISH, state.region))


@scoped(Perm.BOARD_PUBLISH)
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    f = request.FILES.get("attachment")
    made = board.publish_notice(
        actor=state.access, region_id=state.region.pk, kind=request.POST.get("kind", ""),
        title=request.POST.get("title", ""), body=request.POST.get("body", ""),
        target_kinds=request.POST.getlist("target_kinds"),
        attachment=Upload(f.name or "", f.read(FILE_MAX_BYTES + 1)) if f else None,
        request=request)
    messages.success(request, _("Published to %(n)d associations.") % {"n": made.recipients})
    return HttpResponseRedirect(reverse("associations:notice_console", args=[made.pk]))


@scoped(Perm.BOARD_PUBLISH)
def detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    state = console_state(request)
    found = board.get_notice(state.access, notice_id)
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            board.withdraw_notice(actor=state.access, notice_id=found.pk, request=request)
            messages.info(request, _("The notice is withdrawn."))
        else:
            n = board.remind(actor=state.access, notice_id=found.pk, request=request)
            messages.success(request, _("Reminded %(n)d associations.") % {"n": n})
        return HttpResponseRedirect(reverse("associations:notice_console", args=[found.pk]))
    return _render(request, "associations/board/detail.html", state, SECTION, notice=found,
                   pending=list(board.recipients(found, acknowledged=False)[:2000]),
                   done=list(board.recipients(found, acknowledged=True)[:2000]))


@for_self
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "associations/board/inbox.html",
                  {"rows": list(board.inbox_for(request.user)[:100])})


@for_self
@require_POST
def acknowledge(request: HttpRequest, recipient_id: int) -> HttpResponse:
    _row, won = board.acknowledge(actor=request.user, recipient_id=recipient_id,
                                  request=request)
    messages.success(request, _("Acknowledged.") if won else _("Already acknowledged."))
    return HttpResponseRedirect(reverse("associations:notices") + f"#n{recipient_id}")


urlpatterns: list[URLPattern] = [
    path("console/notices/", console, name="notices_console"),
    path("console/notices/publish/", publish, name="notice_publish"),
    path("console/notices/<int:notice_id>/", detail, name="notice_console"),
    path("notices/", inbox, name="notices"),
    path("notices/<int:recipient_id>/acknowledge/", acknowledge, name="notice_acknowledge"),
]
