"""What a notification is about (its category) and the channels that can carry it.

Each category has a default on/off per channel, used when the user has set no preference. An
``urgent`` category (account security: password reset, a new login) ignores quiet hours and its
default channels cannot be switched off. A later feature adds its category here: a member of
``Category`` and a row in ``CATEGORY_SPECS`` (a test checks that every category has one).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("in-app inbox")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("email")
    WEBPUSH = "webpush", _("browser push")


# Channels that leave the platform: each gets a Delivery row. The inbox row is the in-app channel.
EXTERNAL_CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL, Channel.WEBPUSH)


class Category(models.TextChoices):
    SYSTEM = "system", _("system announcements")
    ACCOUNT = "account", _("account security")
    BOOKING = "booking", _("bookings")
    EVENT = "event", _("events")
    GROUP = "group", _("groups")
    REWARD = "reward", _("points and rewards")
    GOVERNANCE = "governance", _("community governance")
    ASSOCIATION = "association", _("associations")
    INSTRUCTOR = "instructor", _("instructors")
    INACTIVITY = "inactivity", _("activity reminders")
    CAMPAIGN = "campaign", _("announcements from your community")


@dataclass(frozen=True)
class CategorySpec:
    defaults: frozenset[Channel]
    urgent: bool = False

    def default_for(self, channel: str) -> bool:
        return channel in self.defaults

    def is_locked(self, channel: str) -> bool:
        """An urgent category's default channels cannot be switched off."""
        return self.urgent and channel in self.defaults


_APP_PUSH = frozenset({Channel.IN_APP, Channel.WEBPUSH})

CATEGORY_SPECS: dict[str, CategorySpec] = {
    Category.SYSTEM: CategorySpec(_APP_PUSH),
    Category.ACCOUNT: CategorySpec(frozenset(Channel), urgent=True),
    Category.BOOKING: CategorySpec(_APP_PUSH | {Channel.SMS}),
    Category.EVENT: CategorySpec(_APP_PUSH),
    Category.GROUP: CategorySpec(_APP_PUSH),
    Category.REWARD: CategorySpec(_APP_PUSH),
    Category.GOVERNANCE: CategorySpec(_APP_PUSH | {Channel.EMAIL}),
    Category.ASSOCIATION: CategorySpec(_APP_PUSH),
    Category.INSTRUCTOR: CategorySpec(_APP_PUSH),
    Category.INACTIVITY: CategorySpec(_APP_PUSH),
    Category.CAMPAIGN: CategorySpec(_APP_PUSH),
}


def spec_for(category: str) -> CategorySpec:
    return CATEGORY_SPECS[category]
