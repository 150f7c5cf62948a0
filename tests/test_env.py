"""Settings come from the environment through typed helpers that fail loudly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list, env_secret


def test_booleans_accept_the_usual_spellings_and_refuse_others(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "0")
    assert env_bool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_integers_are_checked_for_type_and_range(monkeypatch):
    monkeypatch.setenv("X_PORT", "80a")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("X_PORT", 8000)
    monkeypatch.setenv("X_PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="above"):
        env_int("X_PORT", 8000, maximum=65535)
    monkeypatch.delenv("X_PORT")
    assert env_int("X_PORT", 8000) == 8000


def test_lists_split_on_commas(monkeypatch):
    monkeypatch.setenv("X_HOSTS", "a.example, b.example,,")
    assert env_list("X_HOSTS", []) == ["a.example", "b.example"]


def test_database_urls(tmp_path):
    pg = database_from_url("postgres://u:p%40ss@db.local:6543/sport", sqlite_default=tmp_path / "x")
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql", "sport", "u", "p@ss", "db.local", "6543")
    lite = database_from_url("", sqlite_default=tmp_path / "db.sqlite3")
    assert lite["NAME"] == str(tmp_path / "db.sqlite3")
    assert lite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in lite["OPTIONS"]["init_command"]
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        database_from_url("mysql://x/y", sqlite_default=tmp_path / "x")
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        database_from_url("postgres://host/", sqlite_default=tmp_path / "x")


def test_a_missing_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("X_SECRET", raising=False)
    first = env_secret("X_SECRET", tmp_path, lambda: "generated")
    assert first == "generated"
    assert env_secret("X_SECRET", tmp_path, lambda: "another") == "generated"
    monkeypatch.setenv("X_SECRET", "from-env")
    assert env_secret("X_SECRET", tmp_path, lambda: "another") == "from-env"


def test_a_bad_value_stops_the_process_with_a_clear_message(tmp_path):
    proc = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={"DEBUG": "perhaps", "VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in proc.stderr
