"""The resident pages and the staff console, through the Django test client.

Each staff page is tried by the right staff, staff of a sibling region, a resident and an
anonymous visitor. Pages are asked for in English (Accept-Language) so assertions read the
source strings; tests/test_pages_i18n.py covers the Chinese default.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from sportsman.accounts.models import User
from sportsman.core.models import AuditEntry
from sportsman.notifications.backends import read_sms_outbox
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456789"


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return client


def _code_for(phone: str) -> str:
    texts = [row["text"] for row in read_sms_outbox(phone)]
    found = re.search(r"\b(\d{6})\b", texts[-1])
    assert found, texts
    return found.group(1)


@pytest.fixture
def send_code(django_capture_on_commit_callbacks):
    """POST the "send code" button the way HTMX does; the SMS leaves on commit."""
    def send(client, phone, purpose="register"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("accounts:send_code"), {"phone": phone,
                                                               "purpose": purpose},
                               HTTP_HX_REQUEST="true")
    return send


def _notify(user, title="Pool closes early", n=1):
    import uuid

    batch = uuid.uuid4()
    for i in range(n):
        Notification.objects.create(user=user, category="system", title=f"{title} {i}",
                                    batch=batch)


# --- shell and public pages ----------------------------------------------------------------


def test_home_is_public_with_skip_link_and_tab_bar():
    body = english().get("/").content.decode()
    assert 'href="#main"' in body and 'id="main"' in body
    assert 'class="tabbar"' in body and reverse("accounts:login") in body
    assert reverse("notifications:inbox") not in body  # no inbox tab for visitors


def test_home_links_the_console_only_for_staff(tree):
    assert reverse("console:home") in english(tree.town_admin).get("/").content.decode()
    assert reverse("console:home") not in english(tree.resident).get("/").content.decode()


def test_manifest_and_service_worker_are_served_from_the_root():
    manifest = english().get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest["Content-Type"] == "application/manifest+json"
    data = json.loads(manifest.content)
    assert data["start_url"] == "/" and {i["sizes"] for i in data["icons"]} >= {"192x192"}
    sw = english().get("/sw.js")
    assert sw.status_code == 200 and sw["Content-Type"].startswith("text/javascript")
    assert sw["Service-Worker-Allowed"] == "/" and b"addEventListener" in sw.content


def test_visitor_large_text_is_a_cookie_and_user_large_text_is_on_the_profile(tree):
    client = english()
    client.post(reverse("large_text"), {"next": "/"})
    assert client.cookies["large_text"].value == "1"
    assert 'class="large-text"' in client.get("/").content.decode()
    client.post(reverse("large_text"), {"next": "/"})
    assert 'class="large-text"' not in client.get("/").content.decode()

    user_client = english(tree.resident)
    user_client.post(reverse("large_text"), {"next": "http://evil.example/"})
    tree.resident.refresh_from_db()
    assert tree.resident.large_text is True


def test_large_text_switch_refuses_an_off_site_next():
    response = english().post(reverse("large_text"), {"next": "http://evil.example/"})
    assert response["Location"] == "/"


# --- log in and out -------------------------------------------------------------------------


def test_login_with_the_right_password_opens_a_session_and_follows_next(tree):
    client = english()
    response = client.post(reverse("accounts:login"), {
        "phone": tree.resident.phone, "password": PASSWORD,
        "next": reverse("notifications:inbox")})
    assert response.status_code == 302 and response["Location"] == reverse("notifications:inbox")
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_login_refuses_an_off_site_next(tree):
    response = english().post(reverse("accounts:login") + "?next=https://evil.example/", {
        "phone": tree.resident.phone, "password": PASSWORD})
    assert response["Location"] == "/"


def test_wrong_password_is_shown_on_the_form_and_opens_no_session(tree):
    client = english()
    response = client.post(reverse("accounts:login"),
                           {"phone": tree.resident.phone, "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "The phone number or password is wrong." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_show_the_throttle_message(tree):
    client = english()
    for _i in range(5):
        client.post(reverse("accounts:login"),
                    {"phone": tree.resident.phone, "password": "nope-nope-nope"})
    response = client.post(reverse("accounts:login"),
                           {"phone": tree.resident.phone, "password": PASSWORD})
    body = response.content.decode()
    assert "Too many failed log-ins" in body and re.search(r"Try again in \d+ minutes?\.", body)
    assert "_auth_user_id" not in client.session


def test_malformed_phone_is_refused_by_the_form():
    response = english().post(reverse("accounts:login"), {"phone": "12345", "password": "x"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()


def test_logout_is_post_only(tree):
    client = english(tree.resident)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_a_private_page_sends_a_visitor_to_log_in_with_next():
    response = english().get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=%2Faccounts%2Fprofile%2F"


# --- registration and password reset ----------------------------------------------------------


def test_send_code_over_htmx_answers_with_a_status_line(send_code):
    response = send_code(english(), "13612345678")
    assert response.status_code == 200
    assert b'class="code-status ok"' in response.content
    assert len(read_sms_outbox("13612345678")) == 1


def test_a_second_code_within_a_minute_shows_the_throttle_message():
    client = english()
    client.post(reverse("accounts:send_code"), {"phone": "13612345678", "purpose": "register"},
                HTTP_HX_REQUEST="true")
    response = client.post(reverse("accounts:send_code"),
                           {"phone": "13612345678", "purpose": "register"},
                           HTTP_HX_REQUEST="true")
    assert b"code-status error" in response.content and b"Too many codes" in response.content


def test_send_code_without_javascript_goes_back_to_the_form():
    response = english().post(reverse("accounts:send_code"),
                              {"phone": "13612345678", "purpose": "reset"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:forgot_password") + "?phone=13612345678"


def test_register_with_the_sms_code_creates_the_account_and_logs_in(tree, send_code):
    from sportsman.core.models import Sport

    client = english()
    send_code(client, "13612345678")
    sport = Sport.objects.first()
    response = client.post(reverse("accounts:register"), {
        "phone": "13612345678", "code": _code_for("13612345678"), "password": "Kite-runner-77",
        "nickname": "阿明", "home_community": tree.k2.pk, "interests": [sport.pk],
        "agree_terms": "on", "agree_privacy": "on",
    })
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get_by_phone("13612345678")
    assert user.nickname == "阿明" and user.home_community == tree.k2
    assert list(user.interests.all()) == [sport]
    assert client.get(reverse("accounts:profile")).context["profile_user"] == user


def test_register_with_a_wrong_code_shows_it_and_writes_nothing(send_code):
    client = english()
    send_code(client, "13612345678")
    wrong = "000000" if _code_for("13612345678") != "000000" else "111111"
    response = client.post(reverse("accounts:register"), {
        "phone": "13612345678", "code": wrong, "password": "Kite-runner-77",
        "agree_terms": "on", "agree_privacy": "on"})
    assert response.status_code == 200
    assert "The code is wrong" in response.content.decode()
    assert not User.objects.filter(nickname="阿明").exists()
    assert User.objects.count() == 0


def test_register_needs_the_required_consents():
    response = english().post(reverse("accounts:register"), {
        "phone": "13612345678", "code": "123456", "password": "Kite-runner-77"})
    form = response.context["form"]
    assert "agree_terms" in form.errors and "agree_privacy" in form.errors


def test_forgot_password_resets_with_the_code(tree, send_code):
    client = english()
    send_code(client, tree.resident.phone, "reset")
    response = client.post(reverse("accounts:forgot_password"), {
        "phone": tree.resident.phone, "code": _code_for(tree.resident.phone),
        "new_password": "Brand-new-pass-9"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    tree.resident.refresh_from_db()
    assert tree.resident.check_password("Brand-new-pass-9")


# --- my profile -----------------------------------------------------------------------------


def test_profile_shows_my_own_data(tree):
    body = english(tree.resident).get(reverse("accounts:profile")).content.decode()
    assert tree.resident.phone in body and "花园社区" in body


def test_profile_shows_the_newest_choice_per_consent(tree):
    from sportsman.accounts import services

    services.set_consent(user=tree.resident, purpose="location", granted=True, version="1")
    services.set_consent(user=tree.resident, purpose="location", granted=False, version="2")
    body = english(tree.resident).get(reverse("accounts:profile")).content.decode()
    assert "Use of my location" in body
    assert "declined" in body and "agreed" not in body


def test_edit_profile_saves_through_the_service(tree):
    client = english(tree.resident)
    response = client.post(reverse("accounts:edit_profile"), {
        "nickname": "New name", "real_name": "", "sex": "F", "birth_year": "1960",
        "home_community": tree.k3.pk, "hide_from_rankings": "on"})
    assert response.status_code == 302
    tree.resident.refresh_from_db()
    assert (tree.resident.nickname, tree.resident.sex, tree.resident.birth_year) == (
        "New name", "F", 1960)
    assert tree.resident.home_community == tree.k3 and tree.resident.hide_from_rankings


def test_edit_profile_refuses_a_town_as_home_community(tree):
    response = english(tree.resident).post(reverse("accounts:edit_profile"), {
        "nickname": "x", "home_community": tree.t1.pk})
    assert response.status_code == 200
    assert "Choose a community or village." in response.content.decode()
    tree.resident.refresh_from_db()
    assert tree.resident.home_community == tree.k1


def test_download_my_data_is_a_json_attachment(tree):
    response = english(tree.resident).get(reverse("accounts:export"))
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["profile"]["phone"] == tree.resident.phone


def test_delete_account_needs_the_password(tree):
    client = english(tree.resident)
    response = client.post(reverse("accounts:delete"), {"password": "wrong-password"})
    assert response.status_code == 400 and "The password is wrong." in response.content.decode()
    assert User.objects.filter(pk=tree.resident.pk, is_active=True).exists()
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=tree.resident.pk, is_active=True).exists()
    assert client.get(reverse("accounts:profile")).status_code == 302


# --- my notifications ------------------------------------------------------------------------


def test_inbox_shows_my_items_and_the_unread_badge(tree):
    _notify(tree.resident, n=3)
    _notify(tree.town_admin, title="Not yours")
    body = english(tree.resident).get(reverse("notifications:inbox")).content.decode()
    assert body.count('class="unread"') == 3 and "Not yours" not in body
    assert re.search(r'class="badge">3<', body)


def test_mark_read_and_mark_all_read(tree):
    _notify(tree.resident, n=3)
    first = Notification.objects.filter(user=tree.resident).first()
    client = english(tree.resident)
    client.post(reverse("notifications:mark_read"), {"id": first.pk})
    assert Notification.objects.filter(user=tree.resident, read_at__isnull=True).count() == 2
    client.post(reverse("notifications:mark_all_read"))
    assert Notification.objects.filter(user=tree.resident, read_at__isnull=True).count() == 0


def test_mark_read_of_another_users_item_changes_nothing(tree):
    _notify(tree.town_admin)
    theirs = Notification.objects.get(user=tree.town_admin)
    response = english(tree.resident).post(reverse("notifications:mark_read"), {"id": theirs.pk})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_refused_post_from_a_page_goes_back_there_with_the_message(tree):
    _notify(tree.town_admin)
    theirs = Notification.objects.get(user=tree.town_admin)
    client = english(tree.resident)
    inbox = "http://testserver" + reverse("notifications:inbox")
    response = client.post(reverse("notifications:mark_read"), {"id": theirs.pk},
                           HTTP_REFERER=inbox)
    assert response.status_code == 302 and response["Location"] == inbox
    assert "Not found." in client.get(reverse("notifications:inbox")).content.decode()


def test_api_paths_keep_their_own_error_shape(tree):
    response = english().get("/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_preferences_and_quiet_hours_are_saved(tree):
    from sportsman.notifications import services

    client = english(tree.resident)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'name="pref-account-sms" checked disabled' in page  # urgent: locked on
    response = client.post(reverse("notifications:preferences"), {
        "pref-event-in_app": "on", "pref-booking-sms": "on",
        "enabled": "on", "start": "21:30", "end": "06:45", "email": ""})
    assert response.status_code == 302
    prefs = {p.category: p.channels for p in services.get_preferences(tree.resident)}
    assert prefs["event"]["in_app"] is True and prefs["event"]["webpush"] is False
    assert prefs["account"]["sms"] is True
    qh = services.get_quiet_hours(tree.resident)
    assert qh.enabled and qh.start.strftime("%H:%M") == "21:30"


def test_quiet_hours_that_start_and_end_together_are_refused(tree):
    response = english(tree.resident).post(reverse("notifications:preferences"), {
        "enabled": "on", "start": "22:00", "end": "22:00"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()


# --- the staff console ---------------------------------------------------------------------


def _options(body: str) -> set[str]:
    select = body[body.index('id="region-select"'):body.index("</select>")]
    return set(re.findall(r'<option value="(\d+)"', select))


def test_console_refuses_residents_and_sends_visitors_to_log_in(tree):
    assert english(tree.resident).get(reverse("console:home")).status_code == 403
    response = english().get(reverse("console:home"))
    assert response.status_code == 302 and "next=%2Fconsole%2F" in response["Location"]


def test_region_switcher_offers_only_the_actors_subtree(tree):
    body = english(tree.town_admin).get(reverse("console:home")).content.decode()
    assert _options(body) == {str(tree.t1.pk), str(tree.k1.pk), str(tree.k2.pk)}


def test_region_switcher_walks_down_and_back_up(tree):
    client = english(tree.district_admin)
    client.post(reverse("console:switch_region"), {"region": tree.t1.pk})
    body = client.get(reverse("console:home")).content.decode()
    assert _options(body) == {str(tree.d1.pk), str(tree.t1.pk), str(tree.k1.pk),
                              str(tree.k2.pk)}
    assert client.session["console_region_id"] == tree.t1.pk


def test_switching_to_a_region_outside_the_subtree_is_forbidden(tree):
    client = english(tree.town_admin)
    for other in (tree.d2, tree.t2, tree.city, tree.other_city):
        response = client.post(reverse("console:switch_region"), {"region": other.pk})
        assert response.status_code == 403
    assert client.get(reverse("console:home")).context["state"].region == tree.t1


def test_the_session_region_is_revalidated_on_every_request(tree):
    from sportsman.regions.models import RoleAssignment

    admin = tree.user("town_admin", tree.t1)
    RoleAssignment.objects.create(user=admin, role="town_admin", region=tree.t3)
    client = english(admin)
    client.post(reverse("console:switch_region"), {"region": tree.t3.pk})
    RoleAssignment.objects.filter(user=admin, region=tree.t3).delete()
    state = client.get(reverse("console:home")).context["state"]
    assert state.region == tree.t1


def test_console_home_counts_residents_by_child_subtree(tree):
    tree.user(home_community=tree.k2)
    tree.user(home_community=tree.k3)
    tree.user(home_community=tree.k4)
    response = english(tree.district_admin).get(reverse("console:home"))
    counts = {child.name: n for child, n in response.context["rows"]}
    # k1 holds the tree's resident and the venue manager's account has no home community
    assert counts == {"新嘉街道": 2, "东栅街道": 1}
    assert response.context["total"] == 3


def test_resident_list_masks_phones_and_stays_in_the_subtree(tree):
    outsider = tree.user(home_community=tree.k4, nickname="outsider")
    body = english(tree.town_admin).get(reverse("console:residents")).content.decode()
    assert tree.resident.masked_phone in body and tree.resident.phone not in body
    assert "outsider" not in body and outsider.masked_phone not in body


def test_resident_list_is_not_for_venue_managers(tree):
    assert english(tree.venue_manager).get(reverse("console:residents")).status_code == 403


def test_audit_log_is_for_city_admins_only(tree):
    for user in (tree.district_admin, tree.town_admin, tree.resident):
        assert english(user).get(reverse("console:audit")).status_code == 403
    assert english(tree.city_admin).get(reverse("console:audit")).status_code == 200


def test_audit_log_filters_pages_and_stays_in_the_city(tree):
    from sportsman.core.audit import record

    for i in range(55):
        record(actor=tree.town_admin, action=f"roles.grant.{i}", region=tree.t1)
    record(actor=tree.other_city_admin, action="roles.grant.elsewhere", region=tree.other_city)
    record(actor=tree.town_admin, action="venue.update", region=tree.k1)
    client = english(tree.city_admin)
    first = client.get(reverse("console:audit"), {"action": "roles.grant.*"})
    assert len(first.context["entries"]) == 50 and first.context["next_query"]
    assert all(e.action.startswith("roles.grant.") for e in first.context["entries"])
    second = client.get(reverse("console:audit") + "?" + first.context["next_query"])
    actions = [e.action for e in second.context["entries"]]
    assert len(actions) == 5 and "roles.grant.elsewhere" not in actions
    assert not {e.pk for e in first.context["entries"]} & {
        e.pk for e in second.context["entries"]}
    assert AuditEntry.objects.filter(action="roles.grant.elsewhere").exists()


def test_audit_log_has_a_print_stylesheet(tree):
    body = english(tree.city_admin).get(reverse("console:audit")).content.decode()
    assert "css/print.css" in body


def test_every_page_carries_exactly_one_access_mark():
    from django.urls import URLResolver, get_resolver

    from sportsman.regions.access import ACCESS_MARK

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace not in ("api",):
                    yield from walk(p.url_patterns)
            else:
                yield p

    checked = 0
    for pattern in walk(get_resolver().url_patterns):
        view, marks, seen = pattern.callback, 0, set()
        while view is not None and id(view) not in seen:
            seen.add(id(view))
            marks += ACCESS_MARK in getattr(view, "__dict__", {})
            view = getattr(view, "__wrapped__", None)
        if pattern.callback.__module__.startswith("sportsman."):
            checked += 1
            assert marks == 1, f"{pattern.name}: {marks} marks"
    assert checked >= 15
