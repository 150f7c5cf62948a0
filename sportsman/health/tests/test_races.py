"""Races of consent: simultaneous grants to one clinic leave one live consent; a withdrawal and
an issue at once never leave a prescription issued after the withdrawal was committed."""

from __future__ import annotations

import threading

import pytest

from sportsman.core.errors import DomainError
from sportsman.health import services
from sportsman.health.models import ClinicConsent, Prescription
from sportsman.health.tests.fixtures import world


def _run(targets) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_grants_to_one_clinic_leave_one_live_consent(tree):
    from django.db import connection

    w = world(tree)
    barrier = threading.Barrier(5)
    codes: list[str] = []

    def grant() -> None:
        try:
            barrier.wait()
            services.grant_consent(user=tree.resident, clinic_id=w.b.pk)
            codes.append("ok")
        except DomainError as exc:
            codes.append(exc.code)
        finally:
            connection.close()

    _run([grant] * 5)
    assert sorted(codes) == ["consent_exists"] * 4 + ["ok"]
    assert ClinicConsent.objects.filter(user=tree.resident, clinic=w.b,
                                        withdrawn_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_withdrawal_and_issue_at_once(tree):
    from django.db import connection

    from sportsman.activity.selectors import today
    from sportsman.regions.access import Access

    w = world(tree)
    barrier = threading.Barrier(2)
    issued: list[bool] = []

    def issue() -> None:
        try:
            barrier.wait()
            services.issue_prescription(
                access=Access(w.staff_a), clinic_id=w.a.pk, resident_id=tree.resident.pk,
                sport_id=w.sport.pk, intensity="low", sessions_per_week=2,
                minutes_per_session=20, weeks=2, starts_on=today())
            issued.append(True)
        except DomainError:
            issued.append(False)
        finally:
            connection.close()

    def withdraw() -> None:
        try:
            barrier.wait()
            services.withdraw_consent(user=tree.resident, consent_id=w.consent.pk)
        finally:
            connection.close()

    _run([issue, withdraw])
    w.consent.refresh_from_db()
    assert w.consent.withdrawn_at is not None
    new = Prescription.objects.exclude(pk=w.prescription.pk)
    assert new.count() == (1 if issued == [True] else 0)
    # Whatever the order, nothing issued carries a timestamp after the withdrawal.
    for p in new:
        assert p.created_at <= w.consent.withdrawn_at
