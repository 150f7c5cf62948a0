"""Recommendation services: retrain and recompute everyone (the scheduled job), recompute one
resident (after a check-in), the non-personal choices per community, and the personalisation
switch (the accounts ``recommend`` consent).

Personalisation is on only while the resident's newest ``recommend`` consent is granted
(registration asks; no row means off). Withdrawing it deletes the resident's personal rows in
the same transaction, and serving checks the consent on every request, so the next page shows
only non-personal suggestions.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from sportsman.accounts.models import Consent
from sportsman.core import audit
from sportsman.recommend import engine
from sportsman.recommend.models import Kind, ModelVersion, PopularChoice, Recommendation
from sportsman.recommend.snapshot import Snapshot, load

BATCH = 500
KEEP_VERSIONS = 3
POPULAR_PER_KIND = 6


def consenting_ids(user_ids: list[int] | None = None) -> set[int]:
    """Residents whose newest ``recommend`` consent is granted."""
    rows = Consent.objects.filter(purpose=Consent.Purpose.RECOMMEND)
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    newest: dict[int, bool] = {}
    for uid, granted in rows.order_by("user_id", "at", "id").values_list("user_id", "granted"):
        newest[uid] = granted
    return {uid for uid, granted in newest.items() if granted}


def is_personalised(user: Any) -> bool:
    """One query: the newest ``recommend`` consent of ``user``."""
    granted = (Consent.objects.filter(user=user, purpose=Consent.Purpose.RECOMMEND)
               .order_by("-at", "-id").values_list("granted", flat=True).first())
    return bool(granted)


def set_personalisation(*, user: Any, on: bool, request: Any = None) -> Consent:
    """Switch personalised recommendations on or off for ``user`` (the resident themself).

    Appends a consent row through accounts; off deletes the resident's personal rows at once,
    on recomputes them after commit (cheap: no training). Audited."""
    from sportsman.accounts.services import set_consent

    with transaction.atomic():
        consent = set_consent(user=user, purpose=Consent.Purpose.RECOMMEND, granted=on)
        if not on:
            Recommendation.objects.filter(user=user).delete()
        audit.record(actor=user, action="recommend.personalisation_on" if on
                     else "recommend.personalisation_off", obj=user, request=request)
        if on:
            user_id = user.pk
            transaction.on_commit(lambda: recompute_user(user_id))
    return consent


# --- the model --------------------------------------------------------------------------------

def _save_version(trained: engine.Trained, snapshot: Snapshot, seconds: float) -> ModelVersion:
    version = ModelVersion.objects.create(
        algorithm=engine.ALGORITHM, factors=engine.FACTORS, users=len(trained.user_factors),
        items=len(trained.item_keys), interactions=len(snapshot.interactions),
        seconds=round(seconds, 3), item_keys=trained.item_keys,
        item_factors=np.ascontiguousarray(trained.item_factors, np.float32).tobytes(),
        settings={"regularization": engine.REGULARIZATION, "alpha": engine.ALPHA,
                  "iterations": engine.ITERATIONS, "popularity": trained.popularity})
    old = list(ModelVersion.objects.order_by("-id").values_list("pk", flat=True)[KEEP_VERSIONS:])
    if old:
        ModelVersion.objects.filter(pk__in=old).delete()
    return version


def latest_trained() -> tuple[ModelVersion | None, engine.Trained]:
    version = ModelVersion.objects.order_by("-id").first()
    if version is None:
        return None, engine.Trained([], np.zeros((0, engine.FACTORS), np.float32))
    factors = np.frombuffer(bytes(version.item_factors), dtype=np.float32).copy().reshape(
        len(version.item_keys), version.factors)
    return version, engine.Trained(list(version.item_keys), factors, {},
                                   dict(version.settings.get("popularity", {})))


def _rows_for(snapshot: Snapshot, cat: engine.Catalogue, people: list[Any],
              vectors: np.ndarray, habits: dict[int, engine.Habits], exclude: list[set[str]],
              version: ModelVersion | None) -> list[Recommendation]:
    scores = engine.score_batch(snapshot, cat, people, vectors, habits, exclude=exclude)
    now = timezone.now()
    rows = []
    for r, person in enumerate(people):
        habit = habits.get(person.user_id)
        for rank, scored in enumerate(engine.top_per_kind(cat, scores, r), start=1):
            key = cat.keys[scored.position]
            item = snapshot.items[key]
            reason, params = engine.explain(snapshot, person, habit, key, scored)
            if item.kind == Kind.FACILITY:
                slot = engine.free_slot_near(snapshot, item.object_id, habit)
                if slot is not None:
                    params["slot_start"], params["slot_id"] = slot
                    if "usual_times" not in params["used"]:
                        params["used"].append("usual_times")
            rows.append(Recommendation(
                user_id=person.user_id, kind=item.kind, object_id=item.object_id, rank=rank,
                score=round(scored.score, 4), reason=reason, params=params, title=item.title,
                link=item.link, model_version=version, computed_at=now))
    return rows


def _exclusions(snapshot: Snapshot, user_ids: list[int]) -> dict[int, set[str]]:
    """Groups joined and events entered are not recommended again."""
    out: dict[int, set[str]] = defaultdict(set)
    wanted = set(user_ids)
    for it in snapshot.interactions:
        if it.user_id in wanted and it.source in ("group", "event"):
            out[it.user_id].add(it.item)
    return out


def recompute_all(*, batch: int = BATCH) -> dict[str, Any]:
    """Retrain the model on everyone's interactions and recompute the candidates of every
    resident who consented, in batches (a transaction each); delete the rows of those who did
    not; rebuild the non-personal choices. The scheduled job; safe to run again at any time."""
    started = time.perf_counter()
    snapshot = load()
    trained = engine.train(snapshot.interactions)
    train_seconds = time.perf_counter() - started
    version = _save_version(trained, snapshot, train_seconds)
    cat = engine.catalogue(snapshot, trained)
    habits = engine.habits_of(snapshot, snapshot.interactions)
    consenting = sorted(consenting_ids() & set(snapshot.people))
    exclusions = _exclusions(snapshot, consenting)
    zero = np.zeros(trained.item_factors.shape[1], np.float32)
    written = 0
    for start in range(0, len(consenting), batch):
        ids = consenting[start:start + batch]
        people = [snapshot.people[u] for u in ids]
        vectors = np.stack([trained.user_factors.get(u, zero) for u in ids]) if ids else \
            np.zeros((0, len(zero)), np.float32)
        rows = _rows_for(snapshot, cat, people, vectors, habits,
                         [exclusions.get(u, set()) for u in ids], version)
        with transaction.atomic():
            Recommendation.objects.filter(user_id__in=ids).delete()
            Recommendation.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    Recommendation.objects.exclude(user_id__in=consenting_ids()).delete()
    popular = rebuild_popular(snapshot, trained)
    return {"model_version": version.pk, "interactions": len(snapshot.interactions),
            "items": len(trained.item_keys), "residents": len(consenting), "rows": written,
            "popular_rows": popular, "train_seconds": round(train_seconds, 2),
            "seconds": round(time.perf_counter() - started, 2)}


def recompute_user(user_id: int) -> int:
    """Recompute one resident's candidates with the latest trained item factors (no
    training: ALS's closed-form user step on their current interactions). Off or unknown:
    their rows are deleted. Returns the number of rows written."""
    if user_id not in consenting_ids([user_id]):
        Recommendation.objects.filter(user_id=user_id).delete()
        return 0
    snapshot = load(user_ids=[user_id])
    person = snapshot.people.get(user_id)
    if person is None:
        Recommendation.objects.filter(user_id=user_id).delete()
        return 0
    version, trained = latest_trained()
    mine = [it for it in snapshot.interactions if it.user_id == user_id]
    vector = engine.user_vector(trained, mine)
    cat = engine.catalogue(snapshot, trained)
    habits = engine.habits_of(snapshot, mine)
    rows = _rows_for(snapshot, cat, [person], vector.reshape(1, -1), habits,
                     [_exclusions(snapshot, [user_id]).get(user_id, set())], version)
    with transaction.atomic():
        Recommendation.objects.filter(user_id=user_id).delete()
        Recommendation.objects.bulk_create(rows)
    return len(rows)


def rebuild_popular(snapshot: Snapshot, trained: engine.Trained) -> int:
    """Per community (and for the whole platform): what is popular nearby, from everyone's
    counts. No resident's own history enters these rows."""
    from sportsman.recommend.snapshot import Person

    cat = engine.catalogue(snapshot, trained)
    communities = sorted({p.home_id for p in snapshot.people.values() if p.home_id})
    people = [Person(user_id=0, home_id=c) for c in communities] + [Person(0, None)]
    now = timezone.now()
    rows = []
    if cat.keys:
        scores = engine.score_batch(snapshot, cat, people,
                                    np.zeros((len(people), cat.factors.shape[1]), np.float32),
                                    {}, personal=False)
        per_kind: dict[str, int] = dict.fromkeys(engine.PER_KIND, POPULAR_PER_KIND)
        for r, person in enumerate(people):
            for rank, scored in enumerate(engine.top_per_kind(cat, scores, r, per_kind), 1):
                item = snapshot.items[cat.keys[scored.position]]
                rows.append(PopularChoice(
                    community_id=person.home_id, kind=item.kind, object_id=item.object_id,
                    rank=rank, score=round(scored.score, 4),
                    params={"place": snapshot.region_name(person.home_id), "used": ["region"]},
                    title=item.title, link=item.link, computed_at=now))
    with transaction.atomic():
        PopularChoice.objects.all().delete()
        PopularChoice.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
