"""Simplified Chinese by default, English on request: the catalogue is complete, compiled, and
used by pages and by the API's error messages."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _po_entries(text: str) -> list[dict]:
    """Entries of a PO file: flags, msgid, msgid_plural, msgstr / msgstr[n] (unquoted)."""
    entries = []
    for block in text.strip().split("\n\n"):
        entry: dict = {"flags": set(), "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            else:
                m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
                if m:
                    key = m.group(1)
                    entry[key] = ast.literal_eval(m.group(2))
                elif line.startswith('"') and key:
                    entry[key] += ast.literal_eval(line)
        if "msgid" in entry and not entry["obsolete"]:
            entries.append(entry)
    return entries


def _translations(entry: dict) -> list[str]:
    return [v for k, v in entry.items() if k.startswith("msgstr")]


def test_every_msgid_has_a_chinese_translation():
    entries = [e for e in _po_entries(PO.read_text(encoding="utf-8")) if e["msgid"]]
    assert len(entries) > 100
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(_translations(e))]
    assert not fuzzy, f"fuzzy translations: {fuzzy}"
    assert not empty, f"untranslated msgids: {empty}"


def test_the_po_parser_sees_a_missing_translation():
    text = 'msgid "Done"\nmsgstr ""\n\n#, fuzzy\nmsgid "Old"\nmsgstr "旧"\n'
    entries = _po_entries(text)
    assert [e["msgid"] for e in entries if not all(_translations(e))] == ["Done"]
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == ["Old"]


def test_the_compiled_catalogue_matches_the_po_file():
    catalogue = gettext.GNUTranslations(MO.open("rb"))
    stale = []
    for entry in _po_entries(PO.read_text(encoding="utf-8")):
        if not entry["msgid"] or "msgid_plural" in entry or "msgctxt" in entry:
            continue
        if catalogue.gettext(entry["msgid"]) != entry["msgstr"]:
            stale.append(entry["msgid"])
    assert not stale, f"django.mo is out of date (run compilemessages): {stale[:5]}"


@pytest.mark.django_db
def test_home_page_is_chinese_by_default_and_english_on_request():
    body = Client().get("/").content.decode()
    assert '<html lang="zh-Hans"' in body and "运动家" in body and "首页" in body
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert '<html lang="en"' in english and "Sportsman" in english and "运动家" not in english


@pytest.mark.django_db
def test_language_switcher_keeps_english_for_the_visitor():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Skip to main content" in client.get("/").content.decode()


@pytest.mark.django_db
def test_api_error_message_is_chinese_by_default_and_english_with_accept_language():
    body = {"phone": "13812345678", "password": "wrong-password"}
    zh = Client().post("/api/v1/auth/login", body, content_type="application/json")
    assert zh.status_code == 401
    assert zh.json()["message"] == "手机号码或密码错误。"
    en = Client(HTTP_ACCEPT_LANGUAGE="en").post("/api/v1/auth/login", body,
                                                content_type="application/json")
    assert en.json()["message"] == "The phone number or password is wrong."
    assert en.json()["code"] == zh.json()["code"] == "bad_credentials"


@pytest.mark.django_db
def test_api_validation_message_follows_the_language_too():
    zh = Client().post("/api/v1/auth/login", "{not json", content_type="application/json")
    assert zh.status_code == 400 and zh.json()["message"] == "请求内容不是有效的 JSON。"
    en = Client(HTTP_ACCEPT_LANGUAGE="en").post("/api/v1/auth/login", "{not json",
                                                content_type="application/json")
    assert en.json()["message"] == "The body is not valid JSON."
