"""The console's bulk-exchange pages (EXCHANGE_MANAGE, laptop; docs/exchange.md): the jobs of
the current region's subtree, an upload form per kind, export links (CSV, xlsx); a job's page
whose progress block polls itself by HTMX while the job runs, its problems and the error
report."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from sportsman.core import xlsx
from sportsman.interfaces import exchange
from sportsman.interfaces.api_exchange import export_response
from sportsman.interfaces.exchange_formats import KINDS
from sportsman.interfaces.models import ExchangeJob
from sportsman.regions.access import Perm, scoped
from sportsman.regions.views import _render, console_state

SECTION = "exchange"
POLL_SECONDS = 1


@scoped(Perm.EXCHANGE_MANAGE)
def jobs(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    return _render(request, "interfaces/exchange/list.html", state, SECTION,
                   jobs=list(exchange.jobs_for(state.access, region=state.region)[:100]),
                   kinds=list(KINDS.values()),
                   can_export=state.access.can(Perm.EXCHANGE_MANAGE, state.region))


@scoped(Perm.EXCHANGE_MANAGE)
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    upload = request.FILES.get("file")
    content = upload.read(exchange.MAX_BYTES + 1) if upload else b""
    job = exchange.start_import(actor=request.user, kind=request.POST.get("kind", ""),
                                region_id=state.region.pk, content=content,
                                file_name=(upload.name or "") if upload else "", request=request)
    return HttpResponseRedirect(reverse("interfaces:exchange_job", args=[job.pk]))


@scoped(Perm.EXCHANGE_MANAGE)
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    state = console_state(request)
    found = exchange.job_in_scope(state.access, job_id)
    return _render(request, "interfaces/exchange/job.html", state, SECTION, job=found,
                   kind=KINDS[found.kind], poll=POLL_SECONDS)


@scoped(Perm.EXCHANGE_MANAGE)
def progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress block alone (what the page's HTMX poll swaps in)."""
    found = exchange.job_in_scope(console_state(request).access, job_id)
    return render(request, "interfaces/exchange/_progress.html",
                  {"job": found, "poll": POLL_SECONDS})


@scoped(Perm.EXCHANGE_MANAGE)
def errors(request: HttpRequest, job_id: int) -> HttpResponse:
    found: ExchangeJob = exchange.job_in_scope(console_state(request).access, job_id)
    return xlsx.download(exchange.error_report(found), f"exchange-{found.pk}-errors")


@scoped(Perm.EXCHANGE_MANAGE)
def export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    state = console_state(request)
    return export_response(request, kind, state.region.pk, fmt)


urlpatterns: list[URLPattern] = [
    path("exchange/", jobs, name="exchange"),
    path("exchange/import", start, name="exchange_start"),
    path("exchange/<int:job_id>/", job, name="exchange_job"),
    path("exchange/<int:job_id>/progress", progress, name="exchange_progress"),
    path("exchange/<int:job_id>/errors.xlsx", errors, name="exchange_errors"),
    path("exchange/export/<slug:kind>.<slug:fmt>", export, name="exchange_export"),
]
