"""Schemathesis against our own OpenAPI document: generated requests to every operation, sent
as a city administrator, must never crash the server (no 5xx)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def city_admin_token(tree):
    """Requests run in this test's transaction, as Django's test client does: the WSGI app must
    not close the connection at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from sportsman.accounts.auth import issue_token

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield issue_token(tree.city_admin)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_on_generated_input(case, city_admin_token):
    response = case.call(headers={"Authorization": f"Bearer {city_admin_token}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
