"""Suite-wide fixtures: fast password hashing, a clean cache, and small region/user builders."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path):
    """Outboxes and media go to a temporary folder per test."""
    settings.VAR_DIR = tmp_path / "var"
    settings.EMAIL_FILE_PATH = tmp_path / "var" / "outbox" / "email"
