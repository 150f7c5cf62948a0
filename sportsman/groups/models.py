"""Sports groups (社群): the group, its members, its space (posts, comments, likes), its chat,
its activities with sign-ups, and the activity index behind the star groups.

Counters that many people move at once (members of a group, places of an activity) are moved by
one conditional UPDATE each, checked by a constraint, like a slot's places (ADR 0004).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Stamped(models.Model):
    """Created and updated times; ``created_at`` is a default, not ``auto_now_add``, so that
    imported and demo history keeps its own times."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class GroupStatus(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    ACTIVE = "active", _("active")
    REJECTED = "rejected", _("rejected")
    CLOSED = "closed", _("closed")


class JoinPolicy(models.TextChoices):
    OPEN = "open", _("anyone may join")
    APPROVAL = "approval", _("the leader approves")
    INVITATION = "invitation", _("by invitation link")


class Group(Stamped):
    name = models.CharField(_("name"), max_length=40)
    sport = models.ForeignKey("core.Sport", on_delete=models.PROTECT, related_name="groups")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="groups")
    description = models.TextField(_("description"), max_length=2000, blank=True)
    cover = models.ImageField(upload_to="groups/%Y/%m/", blank=True)
    join_policy = models.CharField(max_length=12, choices=JoinPolicy.choices,
                                   default=JoinPolicy.OPEN)
    status = models.CharField(max_length=12, choices=GroupStatus.choices,
                              default=GroupStatus.ACTIVE, db_index=True)
    # The invitation link's secret (a new one revokes the old link).
    invite_code = models.CharField(max_length=32, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=200, blank=True)
    lat = models.FloatField(null=True, blank=True)  # where it usually meets (WGS-84)
    lng = models.FloatField(null=True, blank=True)
    max_members = models.PositiveIntegerField(default=2000)
    members = models.PositiveIntegerField(default=0)  # active members, the leader included
    last_active_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(members__lte=F("max_members")),
                                   name="group_members_within_cap"),
            models.UniqueConstraint(fields=["region", "name"],
                                    condition=~Q(status__in=["rejected", "closed"]),
                                    name="group_name_once_per_region"),
        ]
        indexes = [models.Index(fields=["sport", "status"], name="group_sport_status"),
                   models.Index(fields=["lat", "lng"], name="group_place")]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    LEADER = "leader", _("leader")
    ADMIN = "admin", _("administrator")
    MEMBER = "member", _("member")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("member")
    PENDING = "pending", _("asked to join")
    LEFT = "left", _("left")
    REMOVED = "removed", _("removed")
    REFUSED = "refused", _("refused")


class Visibility(models.TextChoices):
    """Who sees me in a group's member list (leaders and administrators always do)."""

    PUBLIC = "public", _("anyone")
    MEMBERS = "members", _("members of the group")
    HIDDEN = "hidden", _("only the group's leaders")


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="group_memberships")
    role = models.CharField(max_length=8, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField(max_length=8, choices=MemberStatus.choices,
                              default=MemberStatus.ACTIVE)
    visibility = models.CharField(max_length=8, choices=Visibility.choices,
                                  default=Visibility.MEMBERS)
    muted_until = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    # The last chat message this member has read (for unread counts).
    last_read_message_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_once")]
        indexes = [models.Index(fields=["user", "status"], name="membership_user_status"),
                   models.Index(fields=["group", "status", "role"], name="membership_group")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.group_id}"


class Post(Stamped):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="group_posts")
    text = models.TextField(max_length=2000)
    pinned = models.BooleanField(default=False)  # a notice, shown above the posts
    likes = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["group", "-id"], name="post_group_recent")]

    def __str__(self) -> str:
        return f"post {self.pk}"


class PostPhoto(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="groups/posts/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.post_id}#{self.position}"


class Comment(Stamped):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comment_rows")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="group_comments")
    text = models.TextField(max_length=500)
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"comment {self.pk}"


class Like(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="like_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.post_id}"


class ChatMessage(models.Model):
    """A message of a group's chat. ``client_id`` is chosen by the sender's device: a resend after
    a dropped connection finds the message already stored and gets it back instead of a copy."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+")
    client_id = models.CharField(max_length=64)
    text = models.TextField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "sender", "client_id"],
                                               name="chat_message_once")]
        indexes = [models.Index(fields=["group", "id"], name="chat_group_id")]

    def __str__(self) -> str:
        return f"message {self.pk}"


class ReportStatus(models.TextChoices):
    OPEN = "open", _("open")
    UPHELD = "upheld", _("upheld: removed")
    DISMISSED = "dismissed", _("dismissed")


class Report(Stamped):
    """A member's report of a post, comment or message to the staff of the group's region."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE)
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE)
    message = models.ForeignKey(ChatMessage, null=True, blank=True, on_delete=models.CASCADE)
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=ReportStatus.choices,
                              default=ReportStatus.OPEN, db_index=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"report {self.pk}"


class CreationRule(models.Model):
    """Whether a new group in this region's subtree waits for its staff's approval; the nearest
    rule above a group's region decides (none: no approval needed)."""

    region = models.OneToOneField("regions.Region", on_delete=models.CASCADE,
                                  related_name="group_rule")
    needs_approval = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rule@{self.region_id}"


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("open for sign-up")
    CANCELLED = "cancelled", _("cancelled")
    FINISHED = "finished", _("finished")


class GroupActivity(Stamped):
    """A meetup of a group: at a facility (maybe with one of its slots booked) or a place."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(max_length=60)
    description = models.TextField(max_length=2000, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    facility = models.ForeignKey("facilities.Facility", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="group_activities")
    booking = models.ForeignKey("facilities.Booking", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    place = models.CharField(max_length=100, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    capacity = models.PositiveIntegerField()
    taken = models.PositiveIntegerField(default=0)  # live sign-ups (not the waitlist)
    waitlist = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=ActivityStatus.choices,
                              default=ActivityStatus.OPEN)
    check_in_code = models.CharField(max_length=32, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(taken__lte=F("capacity")),
                                              name="group_activity_within_capacity")]
        indexes = [models.Index(fields=["group", "starts_at"], name="group_activity_when")]

    def __str__(self) -> str:
        return self.title


class SignupStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("signed up")
    WAITING = "waiting", _("on the waitlist")
    CANCELLED = "cancelled", _("cancelled")
    ATTENDED = "attended", _("attended")


LIVE_SIGNUP = ["signed_up", "waiting", "attended"]


class Signup(models.Model):
    activity = models.ForeignKey(GroupActivity, on_delete=models.CASCADE,
                                 related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="group_signups")
    status = models.CharField(max_length=10, choices=SignupStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "user"],
                                               condition=Q(status__in=LIVE_SIGNUP),
                                               name="signup_once_live")]
        indexes = [models.Index(fields=["activity", "status", "id"], name="signup_queue")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.activity_id}"


class GroupMonth(models.Model):
    """A group's activity index for one month (recomputed by a job): activities held,
    attendances, members gained, posts — and the score that ranks groups of a level."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="months")
    month = models.DateField()  # the first day
    activities = models.PositiveIntegerField(default=0)
    attendance = models.PositiveIntegerField(default=0)
    member_growth = models.IntegerField(default=0)
    posts = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "month"],
                                               name="group_month_once")]
        indexes = [models.Index(fields=["month", "-score"], name="group_month_rank")]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.month}"


class StarGroup(models.Model):
    """A star group of a year (明星社群), confirmed by the staff of a city, district or town."""

    year = models.PositiveSmallIntegerField()
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="stars")
    score = models.FloatField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "region", "group"],
                                               name="star_group_once")]

    def __str__(self) -> str:
        return f"{self.year}:{self.group_id}"


class FitnessStar(models.Model):
    """A fitness star of a year (健身达人): a resident chosen by the staff of a city, district or
    town from the year's verified exercise, shown to residents by nickname."""

    year = models.PositiveSmallIntegerField()
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="fitness_stars")
    verified_minutes = models.PositiveIntegerField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "region", "user"],
                                               name="fitness_star_once")]

    def __str__(self) -> str:
        return f"{self.year}:{self.user_id}"
