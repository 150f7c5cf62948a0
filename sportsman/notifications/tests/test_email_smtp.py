"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1, through Django's SMTP
backend: the protocol itself, not a stand-in."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller

from sportsman.notifications import services
from sportsman.notifications.categories import Category
from sportsman.notifications.models import Delivery

pytestmark = pytest.mark.django_db


class Inbox:
    """An aiosmtpd handler keeping what it was sent."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_mailer(settings, port: int) -> None:
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
    }}


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    smtp_mailer(settings, controller.port)
    yield inbox
    controller.stop()


def test_email_is_delivered_over_smtp(alice, bob, smtp_server, settings):
    services.set_email(user=alice, email="alice@example.org")

    services.notify(users=[alice, bob], category=Category.GOVERNANCE, title="居民议事会投票",
                    body="Vote on the new court lights.", link="/governance/9")
    report = services.deliver_due()

    assert report.sent == 1  # bob has no address: no email delivery at all
    [(sender, rcpts, raw)] = smtp_server.messages
    assert sender == settings.DEFAULT_FROM_EMAIL
    assert rcpts == ["alice@example.org"]
    message = message_from_bytes(raw)
    assert str(make_header(decode_header(message["Subject"]))) == "居民议事会投票"
    text = message.get_payload(decode=True).decode(message.get_content_charset())
    assert "Vote on the new court lights." in text and "/governance/9" in text
    assert Delivery.objects.get(channel="email").status == "sent"


def test_an_unreachable_smtp_server_is_retried(alice, settings):
    smtp_mailer(settings, free_port())  # nothing listens there
    services.set_email(user=alice, email="alice@example.org")
    services.notify(users=[alice], category=Category.GOVERNANCE, title="Vote")

    report = services.deliver_due()

    d = Delivery.objects.get(channel="email")
    assert report.retrying == 1
    assert (d.status, d.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in d.last_error


def test_a_removed_address_skips_the_email(alice, smtp_server):
    services.set_email(user=alice, email="alice@example.org")
    services.notify(users=[alice], category=Category.GOVERNANCE, title="Vote")
    services.set_email(user=alice, email="")

    assert services.deliver_due().skipped == 1
    assert smtp_server.messages == []


def test_a_title_with_a_line_break_still_makes_a_valid_subject(alice, smtp_server):
    services.set_email(user=alice, email="alice@example.org")
    services.notify(users=[alice], category=Category.GOVERNANCE, title="Vote\r\nBcc: x@evil")

    assert services.deliver_due().sent == 1
    [(_sender, rcpts, raw)] = smtp_server.messages
    assert rcpts == ["alice@example.org"]
    assert message_from_bytes(raw)["Subject"] == "Vote Bcc: x@evil"
