"""Single sign-on providers come from the environment: OIDC_PROVIDERS as JSON and/or
SPORTSMAN_OIDC_<NAME>_* variables; a malformed value stops the process naming the variable."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_oidc_providers


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key == "OIDC_PROVIDERS" or key.startswith("SPORTSMAN_OIDC_"):
            monkeypatch.delenv(key)


def test_json_and_per_provider_variables_combine(monkeypatch):
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps({"zlb": {
        "issuer": "https://id.zj.gov.cn/", "client_id": "a", "label": "浙里办"}}))
    monkeypatch.setenv("SPORTSMAN_OIDC_ZLB_CLIENT_SECRET", "s")
    monkeypatch.setenv("SPORTSMAN_OIDC_CITY_ISSUER", "https://sso.city.example")
    monkeypatch.setenv("SPORTSMAN_OIDC_CITY_CLIENT_ID", "b")
    monkeypatch.setenv("SPORTSMAN_OIDC_CITY_MOBILE_REDIRECT_URIS", "app:/a, app:/b")
    got = env_oidc_providers()
    assert list(got) == ["zlb", "city"]
    assert got["zlb"] == {"issuer": "https://id.zj.gov.cn", "client_id": "a",
                          "client_secret": "s", "label": "浙里办",
                          "scope": "openid profile phone", "mobile_redirect_uris": []}
    assert got["city"]["mobile_redirect_uris"] == ["app:/a", "app:/b"]
    assert got["city"]["label"] == "city"


@pytest.mark.parametrize(("name", "value", "names"), [
    ("OIDC_PROVIDERS", "{not json", "OIDC_PROVIDERS"),
    ("OIDC_PROVIDERS", '{"zlb": {"issuer": "https://x", "client_id": "a", "colour": 1}}',
     "OIDC_PROVIDERS"),
    ("SPORTSMAN_OIDC_ZLB_ISSUER", "ftp://x", "SPORTSMAN_OIDC_ZLB_"),
    ("SPORTSMAN_OIDC_ZLB_CLIENT_ID", "only-an-id", "SPORTSMAN_OIDC_ZLB_"),
])
def test_malformed_configuration_names_the_variable(monkeypatch, name, value, names):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=names):
        env_oidc_providers()


def test_the_scope_must_ask_for_openid(monkeypatch):
    monkeypatch.setenv("SPORTSMAN_OIDC_ZLB_ISSUER", "https://x")
    monkeypatch.setenv("SPORTSMAN_OIDC_ZLB_CLIENT_ID", "a")
    monkeypatch.setenv("SPORTSMAN_OIDC_ZLB_SCOPE", "phone")
    with pytest.raises(ImproperlyConfigured, match="openid"):
        env_oidc_providers()
