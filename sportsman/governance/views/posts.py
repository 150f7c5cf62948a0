"""My posts pages: my community's feed, publishing, a post with its comments, my own posts,
flagging; the console's posts of the current region's subtree (answer, turn into a topic) and
the moderation queue of governance content (take down, restore, dismiss)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.governance import moderation, posts
from sportsman.governance.models import Category as ReportCategory
from sportsman.governance.models import PostKind
from sportsman.regions.access import Perm, access_for, for_self, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "governance"
PAGE = 20


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


def _list(request: HttpRequest, qs, template: str, **extra) -> HttpResponse:
    before = _int(request.GET.get("before"))
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[:PAGE + 1])
    return render(request, template, {
        "posts": rows[:PAGE], "next_before": rows[PAGE - 1].pk if len(rows) > PAGE else None,
        "kinds": PostKind.choices, **extra})


@for_self
def feed(request: HttpRequest) -> HttpResponse:
    """My community's posts, newest first, with the form to publish."""
    if request.method == "POST":
        posts.publish(actor=request.user, text=request.POST.get("text", ""),
                      kind=request.POST.get("kind", PostKind.NEED))
        messages.success(request, _("Published to your community."))
        return HttpResponseRedirect(reverse("governance:posts"))
    return _list(request, posts.feed(request.user), "governance/posts/feed.html",
                 home=request.user.home_community)  # type: ignore[union-attr]


@for_self
def mine(request: HttpRequest) -> HttpResponse:
    return _list(request, posts.mine(request.user), "governance/posts/mine.html")


@for_self
def detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = posts.visible_post(request.user, post_id)
    if request.method == "POST":
        action = request.POST.get("action", "comment")
        if action == "flag":
            moderation.flag(actor=request.user, kind=request.POST.get("kind", "post"),
                            target_id=_int(request.POST.get("target")) or 0,
                            reason=request.POST.get("reason", ""))
            messages.success(request, _("Thank you: the staff will look at it."))
        elif action == "withdraw":
            posts.withdraw(actor=request.user, post_id=post.pk)
            messages.success(request, _("Your post is taken away."))
            return HttpResponseRedirect(reverse("governance:my_posts"))
        else:
            posts.comment(actor=request.user, post_id=post.pk, text=request.POST.get("text", ""))
            messages.success(request, _("Posted."))
        return HttpResponseRedirect(reverse("governance:post", args=[post.pk]))
    return render(request, "governance/posts/detail.html", {
        "post": post, "comments": list(posts.comments(post.pk)[:500]),
        "is_mine": post.author_id == request.user.pk})


# --- console ----------------------------------------------------------------------------------------


@scoped(Perm.POST_MODERATE)
def console(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    access = access_for(request)
    qs = posts.posts_in_scope(access).filter(subtree_q(state.region.path, "region"))
    if request.GET.get("unanswered") == "1":
        qs = qs.filter(answered_at=None, hidden_at=None)
    return _render(request, "governance/posts/console.html", state, SECTION,
                   posts=list(qs.order_by("-id")[:100]),
                   unanswered=request.GET.get("unanswered") == "1",
                   queue=moderation.queue(request.user, region=state.region),
                   can_topics=access.can(Perm.DELIBERATION_MANAGE, state.region),
                   can_reports=access.can(Perm.REPORT_HANDLE, state.region),
                   report_categories=ReportCategory.choices)


@scoped(Perm.POST_MODERATE)
@require_POST
def console_post(request: HttpRequest, post_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    if action == "answer":
        posts.answer(actor=request.user, post_id=post_id, text=request.POST.get("text", ""),
                     request=request)
        messages.success(request, _("Answered."))
    elif action == "topic":
        topic = posts.turn_into_topic(actor=request.user, post_id=post_id,
                                      title=request.POST.get("title", ""),
                                      open_now=request.POST.get("open_now") == "1",
                                      request=request)
        messages.success(request, _("Turned into a topic."))
        return HttpResponseRedirect(reverse("governance:console_topic", args=[topic.pk]))
    elif action == "report":
        from sportsman.governance import reports

        made = reports.from_post(actor=request.user, post_id=post_id,
                                 category=request.POST.get("category", ""), request=request)
        messages.success(request, _("Turned into a report."))
        return HttpResponseRedirect(reverse("governance:console_report", args=[made.pk]))
    return HttpResponseRedirect(reverse("governance:console_posts"))


@scoped(Perm.POST_MODERATE)
@require_POST
def console_take_down(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    moderation.take_down(actor=request.user, kind=kind, target_id=target_id,
                         reason=request.POST.get("reason", ""), request=request)
    messages.success(request, _("Taken down."))
    return HttpResponseRedirect(reverse("governance:console_posts") + "#queue")


@scoped(Perm.POST_MODERATE)
@require_POST
def console_moderate(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    """Restore a taken-down item, or dismiss the flags on one."""
    if request.POST.get("action") == "restore":
        moderation.restore(actor=request.user, kind=kind, target_id=target_id, request=request)
        messages.success(request, _("Restored."))
    else:
        moderation.dismiss(actor=request.user, kind=kind, target_id=target_id, request=request)
        messages.success(request, _("Dismissed."))
    return HttpResponseRedirect(reverse("governance:console_posts") + "#queue")


urlpatterns: list[URLPattern] = [
    path("posts/", feed, name="posts"),
    path("posts/mine/", mine, name="my_posts"),
    path("posts/<int:post_id>/", detail, name="post"),
    path("console/posts/", console, name="console_posts"),
    path("console/posts/<int:post_id>/", console_post, name="console_post"),
    path("console/moderation/<slug:kind>/<int:target_id>/take-down/", console_take_down,
         name="console_take_down"),
    path("console/moderation/<slug:kind>/<int:target_id>/", console_moderate,
         name="console_moderate"),
]
