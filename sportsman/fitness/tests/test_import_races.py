"""Races of imports: the same file imported by several staff at once leaves one record per
person and day; each import either loads (or finds everything unchanged) or is refused whole."""

from __future__ import annotations

import threading

import pytest

from sportsman.core.errors import Conflict
from sportsman.fitness.models import FitnessTest, ItemResult
from sportsman.fitness.tests.fixtures import make_station, row, station_file


@pytest.mark.django_db(transaction=True)
def test_simultaneous_imports_of_one_file_make_no_duplicates(tree):
    from django.db import connection

    from sportsman.fitness import imports
    from sportsman.regions.access import Access

    station = make_station(tree.t1)
    content = station_file([row(serial=i) for i in range(5)])
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            report = imports.import_tests(access=Access(tree.town_admin), station_id=station.pk,
                                          edition="2003", content=content)
            outcomes.append(f"created={report.created}")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 4
    assert outcomes.count("created=5") == 1
    assert set(outcomes) <= {"created=5", "created=0", "import_conflict"}
    assert FitnessTest.objects.count() == 5
    assert ItemResult.objects.count() == 5 * ItemResult.objects.filter(
        test=FitnessTest.objects.first()).count()
