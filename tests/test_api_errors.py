"""The one error shape for bad bodies, on a public write (registration): a clear code, and
nothing written."""

from __future__ import annotations

import json

import pytest

from sportsman.accounts.models import SmsCode, User

pytestmark = pytest.mark.django_db


def _post(client, body: bytes | str, **extra):
    return client.post("/api/v1/auth/register", data=body, content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="en", **extra)


def _nothing_written():
    return not User.objects.exists() and not SmsCode.objects.exists()


def test_an_oversized_body_is_refused_with_too_large(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    padding = "x" * 4096
    response = _post(client, json.dumps({"phone": "13812345678", "code": "123456",
                                         "password": padding}))
    assert response.status_code == 413
    assert response.json() == {"code": "too_large", "message": "The request body is too large.",
                               "fields": {}}
    assert _nothing_written()


def test_malformed_json_is_refused_with_malformed_json(client):
    response = _post(client, '{"phone": "13812345678", ')
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert _nothing_written()


def test_a_json_array_instead_of_an_object_is_invalid(client):
    response = _post(client, "[1, 2]")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "malformed_json"}
    assert _nothing_written()


def test_missing_fields_are_named(client):
    response = _post(client, "{}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert {"phone", "code", "password"} <= set(body["fields"])
    assert _nothing_written()


def test_the_message_is_chinese_by_default(client):
    response = client.post("/api/v1/auth/register", data="{", content_type="application/json")
    assert response.json()["code"] == "malformed_json"
    assert response.json()["message"] != "The body is not valid JSON."


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/facilities/1/nope/deeper",
                                  "/api/v1/v2/me"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_is_a_json_not_found(client, path, method):
    response = getattr(client, method)(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_an_unknown_api_path_speaks_chinese_by_default(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.json()["code"] == "not_found"
    assert response.json()["message"] != "Not found."


def test_pages_outside_the_api_keep_their_html_not_found(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
