"""Demo: most generated residents agreed to personalised recommendations at registration
(the demo resident did), then the model is trained and every candidate computed, as the
nightly job would — so ``make run`` opens on a filled "for you" page."""

from __future__ import annotations

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

CONSENT_SHARE = 0.7
CONSENT_VERSION = "2023-01"


@demo_step("recommend", order=99)
def step_recommend(city: DemoCity) -> None:
    from sportsman.accounts.models import Consent, User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_STAFF
    from sportsman.recommend.services import recompute_all

    rng = city.rng("recommend")
    demo = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_STAFF[0][0])) \
        .values_list("pk", flat=True).first()
    rows = [Consent(user_id=pk, purpose=Consent.Purpose.RECOMMEND, version=CONSENT_VERSION,
                    granted=pk == demo or rng.random() < CONSENT_SHARE)
            for pk in User.objects.filter(role_assignments__isnull=True).order_by("pk")
            .values_list("pk", flat=True)]
    Consent.objects.bulk_create(rows, batch_size=BATCH)
    city.made["recommend"] = recompute_all()
