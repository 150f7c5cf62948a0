"""The client's address: REMOTE_ADDR, or what a trusted reverse proxy says it saw."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sportsman.core.client import client_ip


def _request(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return SimpleNamespace(META=meta)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_a_trusted_proxy_passes_on_the_client_it_saw(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # the client forged a first entry; nginx appended the real address it saw
    assert client_ip(_request("10.0.0.11", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_chained_trusted_proxies_are_skipped(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.5"]
    assert client_ip(_request("10.0.0.11", "198.51.100.7, 192.0.2.5")) == "198.51.100.7"


def test_an_untrusted_sender_cannot_choose_its_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("203.0.113.9", "10.0.0.1")) == "203.0.113.9"


@pytest.mark.parametrize("header", ["", "not-an-ip", "10.0.0.3"])
def test_a_useless_header_falls_back_to_the_proxy(settings, header):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("10.0.0.11", header)) == "10.0.0.11"


@pytest.mark.django_db
def test_login_throttle_counts_the_forwarded_client_not_the_proxy(settings, tree, api_client):
    from sportsman.accounts.models import LoginAttempt

    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    api_client.json("post", "/api/v1/auth/login", {"phone": "13812345678", "password": "x"},
                    HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR="127.0.0.1")
    assert list(LoginAttempt.objects.values_list("ip", flat=True)) == ["198.51.100.7"]
