"""Residents' group pages: finding groups, starting one, a group's space, its chat, its
activities (sign-up and QR check-in), and the star groups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError, InvalidInput
from sportsman.core.models import Sport
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.groups import activities, chat, services, space, stars
from sportsman.groups.models import GroupActivity, JoinPolicy, Signup, SignupStatus, Visibility
from sportsman.regions.access import for_self, public
from sportsman.regions.models import Level, Region

PAGE = 20


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


@public
def find(request: HttpRequest) -> HttpResponse:
    """Groups by sport, near me (the phone's position), my community, or by name; my groups
    first when I am signed in."""
    sport = request.GET.get("sport", "")[:32]
    order = request.GET.get("order", "active")
    q = request.GET.get("q", "")[:40]
    lat, lng = _float(request.GET.get("lat")), _float(request.GET.get("lng"))
    region = None
    if request.GET.get("where") == "mine" and request.user.is_authenticated:
        region = request.user.home_community
    near = (lat, lng) if lat is not None and lng is not None and -90 <= lat <= 90 \
        and -180 <= lng <= 180 else None
    page = _int(request.GET.get("page")) or 1
    qs = services.discover(sport=sport or None, region=region, q=q, near=near, order=order)
    rows = list(qs[(page - 1) * PAGE: page * PAGE + 1])
    mine = list(services.my_groups(request.user)[:20]) if request.user.is_authenticated else []
    unread = chat.unread_counts(request.user) if mine else {}
    return render(request, "groups/find.html", {
        "groups": rows[:PAGE], "next_page": page + 1 if len(rows) > PAGE else None,
        "mine": [(g, unread.get(g.pk, 0)) for g in mine], "sports": Sport.objects.all(),
        "sport": sport, "order": order, "q": q, "where": request.GET.get("where", ""),
        "near": near})


class GroupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=40)
    sport = forms.ChoiceField(label=gettext_lazy("Sport"))
    join_policy = forms.ChoiceField(label=gettext_lazy("Who may join"),
                                    choices=JoinPolicy.choices)
    description = forms.CharField(label=gettext_lazy("About the group"), required=False,
                                  max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sport_field: Any = self.fields["sport"]
        sport_field.choices = [(s.slug, s.name) for s in Sport.objects.all()]


def _apply(form: forms.Form, exc: InvalidInput) -> None:
    for field, errors in exc.fields.items():
        for error in errors if isinstance(errors, list | tuple) else [errors]:
            form.add_error(field if field in form.fields else None, str(error))
    if not exc.fields:
        form.add_error(None, str(exc.message))


@for_self
def new_group(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(actor=request.user, **form.cleaned_data)
        except InvalidInput as exc:
            _apply(form, exc)
        else:
            if group.status == "pending":
                messages.info(request, _("Your group awaits the approval of your community's "
                                         "staff; you will be told."))
            return HttpResponseRedirect(reverse("groups:detail", args=[group.pk]))
    return render(request, "groups/new.html", {"form": form})


def _group_context(request: HttpRequest, group_id: int) -> dict[str, Any]:
    group, mine = services.visible_group(request.user, group_id)
    active = mine is not None and mine.status == "active"
    return {"group": group, "mine": mine, "is_member": active,
            "is_manager": active and mine is not None and mine.role in services.MANAGERS,
            "muted": active and mine is not None and services.is_muted(mine)}


@public
def detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """A group's page: about, notices and posts (members), upcoming activities, members."""
    ctx = _group_context(request, group_id)
    group = ctx["group"]
    posts: list[Any] = []
    next_before = None
    if ctx["is_member"]:
        qs = space.posts(group.pk)
        before = _int(request.GET.get("before"))
        if before:
            qs = qs.filter(id__lt=before, pinned=False)
        rows = list(qs[:PAGE + 1])
        posts = rows[:PAGE]
        next_before = posts[-1].pk if len(rows) > PAGE else None
        viewer: Any = request.user
        liked = set(space.Like.objects.filter(user_id=viewer.pk,
                                              post__in=posts).values_list("post_id", flat=True))
        for p in posts:
            p.liked = p.pk in liked  # type: ignore[attr-defined]
            p.recent_comments = list(  # type: ignore[attr-defined]
                p.comment_rows.filter(deleted_at=None).select_related("author")
                .order_by("-id")[:3])[::-1]
    ctx.update({
        "posts": posts, "next_before": next_before,
        "activities": list(activities.upcoming(group.pk)[:10]),
        "members": list(services.member_list(request.user, group)[:30]),
        "pending": (group.memberships.filter(status="pending").select_related("user")
                    if ctx["is_manager"] else []),
        "visibility_choices": Visibility.choices,
        "invite_url": (request.build_absolute_uri(reverse("groups:join_link", args=[
            group.pk, group.invite_code])) if ctx["is_manager"] else ""),
    })
    return render(request, "groups/detail.html", ctx)


@for_self
@require_POST
def join(request: HttpRequest, group_id: int) -> HttpResponse:
    mine = services.join(actor=request.user, group_id=group_id,
                         invite_code=request.POST.get("invite_code", ""))
    if mine.status == "active":
        messages.success(request, _("Welcome to the group!"))
    else:
        messages.info(request, _("Asked to join: the leader will decide."))
    return HttpResponseRedirect(reverse("groups:detail", args=[group_id]))


@for_self
def join_link(request: HttpRequest, group_id: int, code: str) -> HttpResponse:
    """The invitation link: a page with one button (a GET never joins anyone)."""
    group = services.get_group(group_id)
    return render(request, "groups/invitation.html", {"group": group, "code": code[:64]})


@for_self
@require_POST
def leave(request: HttpRequest, group_id: int) -> HttpResponse:
    services.leave(actor=request.user, group_id=group_id)
    messages.info(request, _("You have left the group."))
    return HttpResponseRedirect(reverse("groups:find"))


@for_self
@require_POST
def visibility(request: HttpRequest, group_id: int) -> HttpResponse:
    services.set_visibility(actor=request.user, group_id=group_id,
                            visibility=request.POST.get("visibility", ""))
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("groups:detail", args=[group_id]) + "#members")


@for_self
@require_POST
def decide(request: HttpRequest, group_id: int, user_id: int) -> HttpResponse:
    services.decide_request(actor=request.user, group_id=group_id, user_id=user_id,
                            accept=request.POST.get("accept") == "1")
    return HttpResponseRedirect(reverse("groups:detail", args=[group_id]) + "#members")


@for_self
@require_POST
def member_action(request: HttpRequest, group_id: int, user_id: int) -> HttpResponse:
    """Leader and administrators: mute for a day, lift a mute, make administrator, remove."""
    action = request.POST.get("action", "")
    if action == "mute":
        services.mute(actor=request.user, group_id=group_id, user_id=user_id, minutes=24 * 60)
    elif action == "unmute":
        services.mute(actor=request.user, group_id=group_id, user_id=user_id, minutes=0)
    elif action in ("admin", "member", "leader"):
        services.set_role(actor=request.user, group_id=group_id, user_id=user_id, role=action)
    elif action == "remove":
        services.remove_member(actor=request.user, group_id=group_id, user_id=user_id)
    else:
        raise InvalidInput()
    messages.success(request, _("Done."))
    return HttpResponseRedirect(reverse("groups:detail", args=[group_id]) + "#members")


@for_self
@require_POST
def post(request: HttpRequest, group_id: int) -> HttpResponse:
    files = request.FILES.getlist("photos")
    if len(files) > space.MAX_PHOTOS:
        raise InvalidInput(_("At most nine photos a post."), code="too_many_photos")
    space.create_post(actor=request.user, group_id=group_id, text=request.POST.get("text", ""),
                      notice=request.POST.get("notice") == "1",
                      photos=[f.read(PHOTO_MAX_BYTES + 1) for f in files])
    messages.success(request, _("Posted."))
    return HttpResponseRedirect(reverse("groups:detail", args=[group_id]) + "#posts")


@for_self
@require_POST
def post_action(request: HttpRequest, group_id: int, post_id: int) -> HttpResponse:
    """Like, unlike, comment, pin, unpin, delete or report a post."""
    action = request.POST.get("action", "")
    user = request.user
    if action in ("like", "unlike"):
        space.like(actor=user, group_id=group_id, post_id=post_id, on=action == "like")
    elif action == "comment":
        space.comment(actor=user, group_id=group_id, post_id=post_id,
                      text=request.POST.get("text", ""))
    elif action in ("pin", "unpin"):
        space.pin(actor=user, group_id=group_id, post_id=post_id, pinned=action == "pin")
    elif action == "delete":
        space.delete_post(actor=user, group_id=group_id, post_id=post_id)
    elif action == "report":
        space.report(actor=user, group_id=group_id, post_id=post_id,
                     reason=request.POST.get("reason", "") or _("Inappropriate"))
        messages.info(request, _("Reported to the staff. Thank you."))
    else:
        raise InvalidInput()
    return HttpResponseRedirect(reverse("groups:detail", args=[group_id]) + f"#post-{post_id}")


@for_self
def chat_page(request: HttpRequest, group_id: int) -> HttpResponse:
    """The group's chat: the latest messages, then live over the socket."""
    ctx = _group_context(request, group_id)
    if not ctx["is_member"]:
        raise services.NotMember()
    history = chat.history(actor=request.user, group_id=group_id, limit=50)
    if history:
        chat.mark_read(actor=request.user, group_id=group_id, up_to=history[-1].pk)
    ctx.update({"history": history, "socket_path": f"/ws/groups/{group_id}/chat/",
                "today": timezone.localdate().isoformat(),
                "last_id": history[-1].pk if history else 0})
    return render(request, "groups/chat.html", ctx)


# --- activities -----------------------------------------------------------------------------


class ActivityForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=60)
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    minutes = forms.IntegerField(label=gettext_lazy("Length (minutes)"), min_value=15,
                                 max_value=720, initial=90)
    capacity = forms.IntegerField(label=gettext_lazy("Places"), min_value=1, max_value=500,
                                  initial=20)
    place = forms.CharField(label=gettext_lazy("Where"), max_length=100, required=False)
    facility_id = forms.IntegerField(label=gettext_lazy("Facility number (optional)"),
                                     required=False, min_value=1)
    waitlist = forms.BooleanField(label=gettext_lazy("Keep a waitlist"), required=False,
                                  initial=True)
    description = forms.CharField(label=gettext_lazy("Details"), required=False,
                                  max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


@for_self
def new_activity(request: HttpRequest, group_id: int) -> HttpResponse:
    ctx = _group_context(request, group_id)
    if not ctx["is_manager"]:
        raise services.NotGroupManager()
    form = ActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        start = data.pop("starts_at")
        if timezone.is_naive(start):
            start = timezone.make_aware(start)
        minutes = data.pop("minutes")
        try:
            made = activities.create(actor=request.user, group_id=group_id, starts_at=start,
                                     ends_at=start + dt.timedelta(minutes=minutes), **data)
        except (InvalidInput, DomainError) as exc:
            if isinstance(exc, InvalidInput):
                _apply(form, exc)
            else:
                form.add_error(None, str(exc.message))
        else:
            return HttpResponseRedirect(reverse("groups:activity", args=[made.pk]))
    ctx["form"] = form
    return render(request, "groups/activity_new.html", ctx)


def _qr(text: str) -> str:
    return segno.make(text, error="m").svg_inline(scale=5, border=2)


@public
def activity_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    a: GroupActivity = activities.get_activity(activity_id)
    ctx = _group_context(request, a.group_id)
    mine: Signup | None = None
    if request.user.is_authenticated:
        mine = (a.signups.filter(user_id=request.user.pk)
                .exclude(status=SignupStatus.CANCELLED).first())
    position = None
    if mine is not None and mine.status == SignupStatus.WAITING:
        position = a.signups.filter(status=SignupStatus.WAITING, id__lte=mine.pk).count()
    check_in_url = request.build_absolute_uri(reverse("groups:check_in", args=[a.check_in_code]))
    ctx.update({"activity": a, "signup": mine, "position": position,
                "qr": _qr(check_in_url) if ctx["is_manager"] else "",
                "signups": (a.signups.exclude(status=SignupStatus.CANCELLED)
                            .select_related("user").order_by("id") if ctx["is_manager"] else [])})
    return render(request, "groups/activity.html", ctx)


@for_self
@require_POST
def activity_action(request: HttpRequest, activity_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    if action == "sign_up":
        s = activities.sign_up(actor=request.user, activity_id=activity_id)
        messages.success(request, _("You are in.") if s.status == SignupStatus.SIGNED_UP
                         else _("The activity is full: you are on the waitlist."))
    elif action == "cancel":
        activities.cancel(actor=request.user, activity_id=activity_id)
        messages.info(request, _("Your sign-up is cancelled."))
    elif action == "finish":
        n = activities.finish_by_leader(actor=request.user, activity_id=activity_id)
        messages.success(request, _("Finished: %(n)d attendances go to the exercise record.")
                         % {"n": n})
    elif action == "call_off":
        activities.cancel_activity(actor=request.user, activity_id=activity_id)
        messages.info(request, _("The activity is called off; everyone signed up is told."))
    else:
        raise InvalidInput()
    return HttpResponseRedirect(reverse("groups:activity", args=[activity_id]))


@for_self
def check_in(request: HttpRequest, code: str) -> HttpResponse:
    """What the activity's QR code opens: one button to check in (a GET changes nothing)."""
    a = GroupActivity.objects.select_related("group").filter(check_in_code=code[:64]).first()
    if request.method == "POST":
        done = activities.check_in(actor=request.user, code=code)
        messages.success(request, _("Checked in. Enjoy!"))
        return HttpResponseRedirect(reverse("groups:activity", args=[done.activity_id]))
    if a is None:
        raise activities.ActivityNotFound()
    return render(request, "groups/check_in.html", {"activity": a, "code": code[:64]})


@public
def star_groups(request: HttpRequest) -> HttpResponse:
    """The shown year's (or ``?year=``) star groups, and the most active groups of my district."""
    year = _int(request.GET.get("year")) or stars.shown_year()
    region = None
    if request.user.is_authenticated and request.user.home_community is not None:
        home = request.user.home_community
        region = Region.objects.filter(id__in=home.ancestor_ids, level=Level.DISTRICT).first()
    region = region or Region.objects.filter(level=Level.CITY).order_by("id").first()
    return render(request, "groups/stars.html", {
        "year": year, "stars": list(stars.stars_of(year)[:100]), "region": region,
        "fitness": list(stars.fitness_stars_of(year)[:100]),
        "top": stars.top_groups(region, year=year, limit=10) if region else []})


urlpatterns: list[URLPattern] = [
    path("", find, name="find"),
    path("new/", new_group, name="new"),
    path("stars/", star_groups, name="stars"),
    path("<int:group_id>/", detail, name="detail"),
    path("<int:group_id>/join/", join, name="join"),
    path("<int:group_id>/invite/<str:code>/", join_link, name="join_link"),
    path("<int:group_id>/leave/", leave, name="leave"),
    path("<int:group_id>/me/", visibility, name="visibility"),
    path("<int:group_id>/requests/<int:user_id>/", decide, name="decide"),
    path("<int:group_id>/members/<int:user_id>/", member_action, name="member_action"),
    path("<int:group_id>/posts/", post, name="post"),
    path("<int:group_id>/posts/<int:post_id>/", post_action, name="post_action"),
    path("<int:group_id>/chat/", chat_page, name="chat"),
    path("<int:group_id>/activities/new/", new_activity, name="new_activity"),
    path("activities/<int:activity_id>/", activity_page, name="activity"),
    path("activities/<int:activity_id>/do/", activity_action, name="activity_action"),
    path("check-in/<str:code>/", check_in, name="check_in"),
]
