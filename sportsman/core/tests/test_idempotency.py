"""Idempotency-Key on a real write endpoint: retries replay, reuse is refused, races run once.

The endpoint lives on a throwaway NinjaAPI mounted by this module's URL conf, with the project's
bearer authentication and error handler, so requests go through Django's full stack.
"""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, transaction
from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI, Router, Schema
from ninja.responses import Status

from config.api import BearerAuth, _domain_error
from sportsman.core import events
from sportsman.core.errors import DomainError, InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.models import DomainEvent, IdempotencyKey
from sportsman.core.schemas import In
from sportsman.core.testing import failures, race
from sportsman.regions.access import for_self

router = Router()
SLOW = {"seconds": 0.0}


class TicketIn(In):
    title: str


class TicketOut(Schema):
    id: int
    title: str


@router.post("/tickets", response={201: TicketOut})
@for_self
@idempotent
def create_ticket(request: HttpRequest, data: TicketIn):
    if data.title == "bad":
        raise InvalidInput("bad title", code="bad_title")
    with transaction.atomic():
        event = events.publish("test.ticket_created", {"title": data.title,
                                                      "user": request.user.pk})
    time.sleep(SLOW["seconds"])  # holds the transaction open for the race test
    return Status(201, {"id": event.pk, "title": data.title})


test_api = NinjaAPI(urls_namespace="test-idempotency", auth=[BearerAuth()])
test_api.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
test_api.add_router("/", router)
urlpatterns = [path("api/test/", test_api.urls)]

pytestmark = pytest.mark.urls(__name__)
URL = "/api/test/tickets"


def post(client, body: dict, key: str | None = None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.json("post", URL, body, **extra)


def tickets() -> int:
    return DomainEvent.objects.filter(name="test.ticket_created").count()


@pytest.fixture
def resident(db):
    from sportsman.accounts.models import User

    return User.objects.create_user("13700000001", "pw-123456789")


def test_without_a_key_every_request_runs(api_client, resident):
    client = api_client.as_user(resident)
    assert post(client, {"title": "a"}).status_code == 201
    assert post(client, {"title": "a"}).status_code == 201
    assert tickets() == 2
    assert not IdempotencyKey.objects.exists()


def test_a_retry_with_the_same_key_replays_the_answer_without_running_again(
        api_client, resident):
    client = api_client.as_user(resident)
    first = post(client, {"title": "a"}, key="k-1")
    assert first.status_code == 201
    again = post(client, {"title": "a"}, key="k-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert tickets() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.owner, stored.key, stored.status_code) == (f"user:{resident.pk}", "k-1", 201)


def test_the_same_key_with_a_different_body_is_refused(api_client, resident):
    client = api_client.as_user(resident)
    assert post(client, {"title": "a"}, key="k-1").status_code == 201
    reused = post(client, {"title": "b"}, key="k-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert tickets() == 1


def test_keys_belong_to_their_owner(api_client, resident):
    from sportsman.accounts.models import User

    other = User.objects.create_user("13700000002", "pw-123456789")
    assert post(api_client.as_user(resident), {"title": "a"}, key="k-1").status_code == 201
    theirs = post(api_client.as_user(other), {"title": "a"}, key="k-1")
    assert theirs.status_code == 201
    assert tickets() == 2


def test_a_failed_operation_keeps_no_key_and_a_retry_runs_anew(api_client, resident):
    client = api_client.as_user(resident)
    refused = post(client, {"title": "bad"}, key="k-1")
    assert refused.status_code == 400
    assert refused.json()["code"] == "bad_title"
    assert not IdempotencyKey.objects.exists()
    assert post(client, {"title": "bad"}, key="k-1").json()["code"] == "bad_title"
    assert tickets() == 0


def test_a_malformed_key_is_refused(api_client, resident):
    response = post(api_client.as_user(resident), {"title": "a"}, key="x" * 129)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert tickets() == 0


def test_a_duplicate_that_cannot_get_the_lock_gets_409(api_client, resident, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    from sportsman.core import idempotency

    monkeypatch.setattr(idempotency, "_claim", locked)  # where the key's insert waits
    response = post(api_client.as_user(resident), {"title": "a"}, key="k-1")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert tickets() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_the_operation_once_and_get_the_same_answer(
        api_client, monkeypatch):
    from sportsman.accounts.models import User

    user = User.objects.create_user("13700000003", "pw-123456789")
    client = api_client.as_user(user)  # token committed before the threads start
    monkeypatch.setitem(SLOW, "seconds", 0.5)
    def send(i):
        response = post(client, {"title": "race"}, key="same-key")
        return response.status_code, response.json()

    answers = race(send, 3)
    assert failures(answers) == []
    assert all(a == answers[0] for a in answers), answers
    assert answers[0][0] == 201
    assert tickets() == 1
    assert IdempotencyKey.objects.count() == 1
