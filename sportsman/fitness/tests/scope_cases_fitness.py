"""Scope-matrix cases of the fitness operations (collected by tests/test_scope_matrix.py): a
test station on town t1 with one record."""

from __future__ import annotations

from tests.scope import Case, ids


def _station(tree):
    from sportsman.fitness import imports
    from sportsman.fitness.tests.fixtures import make_station, row, station_file
    from sportsman.regions.access import Access

    station = make_station(tree.t1, code="MATRIX-1")
    report = imports.import_tests(access=Access(tree.town_admin), station_id=station.pk,
                                  edition="2003", content=station_file([row(serial=9)]))
    return {"station": station, "test_id": report.test_ids[0]}


def _file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sportsman.fitness.tests.fixtures import row, station_file

    return SimpleUploadedFile("station.xlsx", station_file([row(serial=11, name="矩阵")]))


def _tests():
    from sportsman.fitness.models import FitnessTest

    return FitnessTest.objects


CASES: list[Case] = [
    Case("fitness.stations (sees t1's station)", op="GET /console/fitness/stations",
         setup=_station, call=lambda c, t, s: c.get("/api/v1/console/fitness/stations"),
         sees=lambda r, t, s: r.status_code == 200 and s["station"].pk in ids(r)),
    Case("fitness.create a station on t1", op="POST /console/fitness/stations",
         call=lambda c, t, s: c.json("post", "/api/v1/console/fitness/stations", {
             "region_id": t.t1.pk, "name": "矩阵监测站", "code": "MATRIX-NEW"}),
         changed=lambda t, s: __import__(
             "sportsman.fitness.models", fromlist=["x"]).TestStation.objects.filter(
             code="MATRIX-NEW").exists()),
    Case("fitness.import into t1's station", op="POST /console/fitness/import", setup=_station,
         call=lambda c, t, s: c.post("/api/v1/console/fitness/import", {
             "station_id": s["station"].pk, "edition": "2003", "file": _file()}),
         changed=lambda t, s: _tests().count() == 2),
    Case("fitness.tests (sees t1's record)", op="GET /console/fitness/tests", setup=_station,
         call=lambda c, t, s: c.get("/api/v1/console/fitness/tests"),
         sees=lambda r, t, s: r.status_code == 200 and s["test_id"] in ids(r)),
    Case("fitness.one record of t1", op="GET /console/fitness/tests/{test_id}", setup=_station,
         call=lambda c, t, s: c.get(f"/api/v1/console/fitness/tests/{s['test_id']}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["test_id"]),
]
