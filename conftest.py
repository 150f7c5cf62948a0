"""Suite-wide fixtures: fast password hashing, a clean cache, and small region/user builders."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--clock", default=os.environ.get("SPORTSMAN_CLOCK", ""),
        help="run the session as if it were this instant (ISO 8601 with its offset, e.g. "
             "2027-12-31T23:30:00+08:00); the clock keeps ticking from there (time-machine). "
             "`make test-calendar` runs the suite at every edge date.")


_travel = None


def _own_redis_database() -> None:
    """Under pytest-xdist each worker (gw0, gw1, ...) takes a Redis database of its own, counting
    down from TEST_REDIS_URL's, so that one worker's flush never empties another's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("TEST_REDIS_URL", "")
    if not worker.startswith("gw") or not url:
        return
    base, _, db = url.rpartition("/")
    number = int(db) if db.isdigit() else 0
    os.environ["TEST_REDIS_URL"] = f"{base}/{(number - int(worker[2:])) % 16}"


def pytest_configure(config):
    """Travel the whole session to --clock, before collection, so that a module's ``TODAY`` is
    read there too: anything that reads today (periods, windows, expiry, rankings of "this
    year") then meets a month, quarter or year end, 29 February, a Monday or a Sunday, in
    Asia/Shanghai and in UTC on either side of midnight."""
    global _travel
    _own_redis_database()
    instant = config.getoption("--clock")
    if not instant:
        return
    import datetime as dt

    import time_machine

    when = dt.datetime.fromisoformat(instant)
    if when.tzinfo is None:
        raise pytest.UsageError("--clock needs an offset, e.g. 2027-12-31T23:30:00+08:00")
    _travel = time_machine.travel(when, tick=True)
    _travel.start()


def pytest_unconfigure(config):
    global _travel
    if _travel is not None:
        _travel.stop()
        _travel = None


@pytest.fixture(scope="session")
def django_db_setup(request, django_db_setup, django_db_blocker):
    """The test databases are made from the models (``--nomigrations`` in pyproject: replaying
    the migration chain spends about 40 s per worker rendering historical model states), then
    given what our migrations add beyond the models — their RunPython and RunSQL operations
    (the sports catalogue, the audit log's append-only triggers, PostgreSQL's path index).
    ``makemigrations --check`` holds the models to the migrations, and the browser tests and
    ``make run``'s test apply the real chain on both databases (docs/testing.md). Pass
    ``--migrations`` to run the chain here too."""
    if request.config.getoption("nomigrations"):
        with django_db_blocker.unblock():
            _apply_migration_code()


def _apply_migration_code() -> None:
    import importlib
    import pkgutil

    from django.apps import apps
    from django.db import connection
    from django.db.migrations.operations.special import RunPython, RunSQL

    for config in apps.get_app_configs():
        if not config.name.startswith("sportsman."):
            continue
        try:
            package = importlib.import_module(f"{config.name}.migrations")
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            migration = importlib.import_module(f"{package.__name__}.{info.name}").Migration
            for operation in migration.operations:
                if isinstance(operation, RunPython):
                    with connection.schema_editor() as editor:
                        operation.code(apps, editor)
                elif isinstance(operation, RunSQL):
                    with connection.schema_editor() as editor:
                        for sql in ([operation.sql] if isinstance(operation.sql, str)
                                    else operation.sql):
                            editor.execute(sql)


@pytest.fixture
def midday():
    """Today (the --clock's day) at 12:00 local, the clock ticking: for a test that records
    exercise earlier today and must find it over before now, whatever the hour it runs at
    (between 00:00 and 00:30 a session of today's could not yet have ended)."""
    import time_machine
    from django.utils import timezone

    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=True):
        yield noon


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from sportsman.core import wording
    from sportsman.facilities.selectors import forget_sports
    from sportsman.governance.reports import forget_scopes

    cache.clear()
    forget_sports()
    forget_scopes()
    wording.forget()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path):
    """Outboxes and media (the default file storage) go to a temporary folder per test."""
    settings.VAR_DIR = tmp_path / "var"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "var" / "media")}}}
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(tmp_path / "var" / "outbox" / "email")},
    }}


@pytest.fixture(autouse=True)
def _flushable_audit_log(request):
    """Transactional tests may write audit entries like any other: their closing flush gets
    past the append-only log (see core.testing.clear_audit_log_for_flush). Requesting the
    transactional database first makes this teardown run before the flush."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    from sportsman.core.testing import clear_audit_log_for_flush

    clear_audit_log_for_flush()


class Tree:
    """A small region tree with staff at every level, for scope tests:

    city 嘉兴 ─ district 南湖 (d1) ─ town 新嘉 (t1) ─ communities 花园 (k1), 新南 (k2)
                               └─ town 东栅 (t2) ─ community 湘城 (k3)
             └─ district 秀洲 (d2) ─ town 新塍 (t3) ─ community 蓬莱 (k4)
    plus a second city 湖州 (other_city) with one district.
    """

    def __init__(self) -> None:
        from sportsman.accounts.models import User
        from sportsman.regions.models import Region, RoleAssignment

        def region(code: str, name: str, level: str, parent=None):
            r = Region.objects.create(code=code, edition=2023, name=name, level=level,
                                      parent=parent, path="")
            r.path = (parent.path if parent else "/") + f"{r.pk}/"
            r.save(update_fields=["path"])
            return r

        self.city = region("330400000000", "嘉兴市", "city")
        self.d1 = region("330402000000", "南湖区", "district", self.city)
        self.d2 = region("330411000000", "秀洲区", "district", self.city)
        self.t1 = region("330402009000", "新嘉街道", "town", self.d1)
        self.t2 = region("330402013000", "东栅街道", "town", self.d1)
        self.t3 = region("330411104000", "新塍镇", "town", self.d2)
        self.k1 = region("330402009034", "花园社区", "community", self.t1)
        self.k2 = region("330402009035", "新南社区", "community", self.t1)
        self.k3 = region("330402013009", "湘城社区", "community", self.t2)
        self.k4 = region("330411104008", "蓬莱社区", "community", self.t3)
        self.other_city = region("330500000000", "湖州市", "city")
        self.other_district = region("330502000000", "吴兴区", "district", self.other_city)

        seq = iter(range(13700000000, 13700001000))

        def user(role: str | None = None, region_=None, **extra):
            u = User.objects.create_user(str(next(seq)), "pw-123456789", **extra)
            if role:
                RoleAssignment.objects.create(user=u, role=role, region=region_)
            return u

        self.user = user
        self.resident = user(home_community=self.k1, nickname="resident")
        self.city_admin = user("city_admin", self.city)
        self.district_admin = user("district_admin", self.d1)
        self.sibling_district_admin = user("district_admin", self.d2)
        self.town_admin = user("town_admin", self.t1)
        self.sibling_town_admin = user("town_admin", self.t2)
        self.community_admin = user("community_admin", self.k1)
        self.sibling_community_admin = user("community_admin", self.k2)
        self.other_city_admin = user("city_admin", self.other_city)
        self.venue_manager = user("venue_manager", self.k1)


@pytest.fixture
def tree(db) -> Tree:
    return Tree()


@pytest.fixture
def api_client():
    """A Django test client speaking JSON with a bearer token: ``api_client.as_user(u)``."""
    from django.test import Client

    from sportsman.accounts.auth import issue_token

    class ApiClient(Client):
        def as_user(self, user):
            token = issue_token(user) if user is not None else None
            client = ApiClient()
            if token:
                client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
            return client

        def json(self, method: str, path: str, data=None, **extra):
            import json as _json

            body = _json.dumps(data) if data is not None else None
            return getattr(self, method.lower())(path, data=body,
                                                  content_type="application/json", **extra)

    return ApiClient()
