"""The model: implicit-feedback collaborative filtering (``implicit``'s ALS over the
resident × item matrix of weighted interactions), blended with content and context scores —
sport (interests and the sports one actually does), place (home community, town, district),
popularity — and a reason for every candidate, built from the data that produced its score.

A resident without history has a zero CF vector: the blend then rests on the profile alone
(the cold start). Everything here is pure computation on a :class:`Snapshot`; the database is
read and written in ``services``. See docs/recommend.md and docs/adr/0009.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from sportsman.recommend.models import Kind
from sportsman.recommend.snapshot import SOURCE_DATA, WEIGHTS, Interaction, Person, Snapshot

ALGORITHM = "implicit-als"
FACTORS = 32
REGULARIZATION = 0.1
ALPHA = 8.0
ITERATIONS = 15
# The blend (each part lies in [0, 1]).
W_CF, W_SPORT, W_PLACE, W_POP = 0.5, 0.3, 1.0, 0.3  # tuned by leave-last-out (docs)
PER_KIND: dict[str, int] = {Kind.FACILITY: 6, Kind.GROUP: 4, Kind.EVENT: 4,
                            Kind.INSTRUCTOR: 4}
DAYPARTS = ((5, 11, "morning"), (11, 14, "noon"), (14, 18, "afternoon"), (18, 24, "evening"))


def daypart(hour: int) -> str:
    for low, high, name in DAYPARTS:
        if low <= hour < high:
            return name
    return "night"


@dataclass
class Trained:
    item_keys: list[str]
    item_factors: np.ndarray  # items × factors, float32
    user_factors: dict[int, np.ndarray] = field(default_factory=dict)
    popularity: dict[str, int] = field(default_factory=dict)  # distinct residents per item

    @property
    def index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.item_keys)}


def _als(factors: int = FACTORS) -> Any:
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares(factors=factors, regularization=REGULARIZATION, alpha=ALPHA,
                                   iterations=ITERATIONS, random_state=7, num_threads=1)


def confidence_matrix(interactions: Iterable[Interaction], users: Sequence[int],
                      index: dict[str, int]) -> csr_matrix:
    """users × items: log(1 + summed weights) per pair (implicit adds 1 + alpha · value)."""
    row_of = {u: i for i, u in enumerate(users)}
    totals: dict[tuple[int, int], float] = defaultdict(float)
    for it in interactions:
        r, c = row_of.get(it.user_id), index.get(it.item)
        if r is not None and c is not None:
            totals[(r, c)] += WEIGHTS[it.source]
    if not totals:
        return csr_matrix((len(users), len(index)), dtype=np.float32)
    keys = list(totals)
    rows = np.fromiter((k[0] for k in keys), dtype=np.int32, count=len(keys))
    cols = np.fromiter((k[1] for k in keys), dtype=np.int32, count=len(keys))
    vals = np.log1p(np.fromiter(totals.values(), dtype=np.float32, count=len(keys)))
    return csr_matrix((vals, (rows, cols)), shape=(len(users), len(index)), dtype=np.float32)


def train(interactions: list[Interaction], *, factors: int = FACTORS) -> Trained:
    """Fit ALS on every resident's interactions. Items are those interacted with."""
    from threadpoolctl import threadpool_limits

    keys = sorted({it.item for it in interactions})
    index = {k: i for i, k in enumerate(keys)}
    users = sorted({it.user_id for it in interactions})
    popularity = Counter(k for _u, k in {(it.user_id, it.item) for it in interactions})
    if not users or len(keys) < 2:
        return Trained(keys, np.zeros((len(keys), factors), np.float32), {}, dict(popularity))
    matrix = confidence_matrix(interactions, users, index)
    model = _als(factors)
    with threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False)
    uf = np.asarray(model.user_factors, dtype=np.float32)
    return Trained(keys, np.asarray(model.item_factors, dtype=np.float32),
                   {u: uf[i] for i, u in enumerate(users)}, dict(popularity))


def user_vector(trained: Trained, interactions: list[Interaction]) -> np.ndarray:
    """One resident's factors from their current interactions and the trained item factors
    (ALS's closed-form user step: cheap, no training)."""
    from threadpoolctl import threadpool_limits

    f = trained.item_factors.shape[1] if trained.item_factors.ndim == 2 else FACTORS
    index = trained.index
    if not interactions or not any(it.item in index for it in interactions):
        return np.zeros(f, np.float32)
    row = confidence_matrix(interactions, [interactions[0].user_id], index)
    model = _als(f)
    model.item_factors = trained.item_factors
    model.user_factors = np.zeros((1, f), np.float32)
    with threadpool_limits(1, "blas"):
        return np.asarray(model.recalculate_user(0, row), dtype=np.float32).reshape(-1)


# --- habits -----------------------------------------------------------------------------------

@dataclass
class Habits:
    """What a resident's history says: when and where they exercise, which sports."""

    count: int = 0
    sources: set[str] = field(default_factory=set)
    sports: Counter = field(default_factory=Counter)
    facilities: Counter = field(default_factory=Counter)
    times: Counter = field(default_factory=Counter)  # (weekday, hour)
    habit: tuple[int, str, int | None, int | None] | None = None  # weekday, daypart, sport, town


def habits_of(snapshot: Snapshot, interactions: Iterable[Interaction]) -> dict[int, Habits]:
    from django.utils import timezone

    out: dict[int, Habits] = defaultdict(Habits)
    combos: dict[int, Counter] = defaultdict(Counter)
    town_of_facility: dict[int, int | None] = {}
    for it in interactions:
        h = out[it.user_id]
        h.count += 1
        h.sources.add(it.source)
        if it.sport_id:
            h.sports[it.sport_id] += 1
        if it.facility_id is not None:
            local = timezone.localtime(it.at)
            h.facilities[it.facility_id] += 1
            h.times[(local.weekday(), local.hour)] += 1
            if it.facility_id not in town_of_facility:
                item = snapshot.items.get(it.item)
                town_of_facility[it.facility_id] = snapshot.ancestors(
                    item.region_id if item else None)[1]
            combos[it.user_id][(local.weekday(), daypart(local.hour), it.sport_id,
                                town_of_facility[it.facility_id])] += 1
    for uid, counter in combos.items():
        (combo, n), = counter.most_common(1)
        if n >= 2:
            out[uid].habit = combo
    return out


# --- the blend --------------------------------------------------------------------------------

@dataclass
class Catalogue:
    """The candidate items as arrays, in one order."""

    keys: list[str]
    kinds: np.ndarray
    factors: np.ndarray  # candidates × f (zero rows for items the model has not seen)
    community: np.ndarray
    town: np.ndarray
    district: np.ndarray
    sports: np.ndarray  # candidates × sport slots (0/1)
    sport_slot: dict[int, int]
    popularity: np.ndarray  # in [0, 1]
    events: list[int]  # positions of events (eligibility is checked per resident)


def catalogue(snapshot: Snapshot, trained: Trained, keys: list[str] | None = None) -> Catalogue:
    keys = keys if keys is not None else sorted(snapshot.items)
    index = trained.index
    f = trained.item_factors.shape[1] if trained.item_factors.ndim == 2 else FACTORS
    factors = np.zeros((len(keys), f), np.float32)
    sport_slot = {s: i for i, s in enumerate(sorted(snapshot.sports))}
    sports = np.zeros((len(keys), max(1, len(sport_slot))), np.float32)
    comm = np.full(len(keys), -1, np.int64)
    town = np.full(len(keys), -1, np.int64)
    district = np.full(len(keys), -1, np.int64)
    pop = np.zeros(len(keys), np.float32)
    kinds = np.empty(len(keys), dtype=object)
    events = []
    for i, key in enumerate(keys):
        item = snapshot.items[key]
        kinds[i] = item.kind
        j = index.get(key)
        if j is not None:
            factors[i] = trained.item_factors[j]
        for s in item.sports:
            if s in sport_slot:
                sports[i, sport_slot[s]] = 1.0
        c, t, d = snapshot.ancestors(item.region_id)
        comm[i], town[i], district[i] = c or -1, t or -1, d or -1  # type: ignore[assignment]
        pop[i] = math.log1p(trained.popularity.get(key, 0))
        if item.kind == Kind.EVENT:
            events.append(i)
    if pop.max() > 0:
        pop /= pop.max()
    return Catalogue(keys, kinds, factors, comm, town, district, sports, sport_slot, pop,
                     events)


@dataclass
class Scored:
    position: int
    score: float
    cf: float
    sport: float
    place: float
    pop: float


def _eligible(snapshot: Snapshot, person: Person, key: str) -> bool:
    item = snapshot.items[key]
    path = item.eligible_path or snapshot.region_path(item.region_id)
    home = snapshot.region_path(person.home_id)
    if path and not home.startswith(path):
        return False
    year = item.starts_at.year if item.starts_at else snapshot.now.year
    if person.birth_year is not None:
        if item.age_min is not None and year - person.birth_year < item.age_min:
            return False
        if item.age_max is not None and year - person.birth_year > item.age_max:
            return False
    elif item.age_min is not None or item.age_max is not None:
        return False
    return not (item.sex and person.sex != item.sex)


def score_batch(snapshot: Snapshot, cat: Catalogue, people: list[Person],
                vectors: np.ndarray, habits: dict[int, Habits], *,
                exclude: list[set[str]] | None = None, personal: bool = True) -> np.ndarray:
    """Blended scores, people × candidates (−inf where not to be recommended) and the parts
    (cf, sport, place, pop) for the explanation."""
    n = len(people)
    cf = vectors @ cat.factors.T if personal and cat.factors.size else np.zeros(
        (n, len(cat.keys)), np.float32)
    top = np.abs(cf).max(axis=1, keepdims=True)
    cf = np.clip(np.divide(cf, top, out=np.zeros_like(cf), where=top > 0), 0, 1)
    liked = np.zeros((n, cat.sports.shape[1]), np.float32)
    home = np.full((n, 1), -2, np.int64)
    town = np.full((n, 1), -2, np.int64)
    district = np.full((n, 1), -2, np.int64)
    for r, person in enumerate(people):
        if personal:
            for s in person.interests:
                if s in cat.sport_slot:
                    liked[r, cat.sport_slot[s]] = max(liked[r, cat.sport_slot[s]], 0.7)
            done = habits.get(person.user_id)
            if done and done.sports:
                most = max(done.sports.values())
                for s, c in done.sports.items():
                    if s in cat.sport_slot:
                        liked[r, cat.sport_slot[s]] = max(liked[r, cat.sport_slot[s]],
                                                          0.5 + 0.5 * c / most)
        hc, ht, hd = snapshot.ancestors(person.home_id)
        home[r, 0], town[r, 0], district[r, 0] = hc or -2, ht or -2, hd or -2
    sport = np.clip(liked @ cat.sports.T, 0, 1)
    place = np.where(cat.community[None, :] == home, 1.0,
                     np.where(cat.town[None, :] == town, 0.6,
                              np.where(cat.district[None, :] == district, 0.25, 0.0)))
    pop = np.broadcast_to(cat.popularity[None, :], (n, len(cat.keys)))
    total = W_CF * cf + W_SPORT * sport + W_PLACE * place + W_POP * pop
    if cat.events:
        for r, person in enumerate(people):
            for i in cat.events:
                if not _eligible(snapshot, person, cat.keys[i]):
                    total[r, i] = -np.inf
    if exclude is not None:
        pos = {k: i for i, k in enumerate(cat.keys)}
        for r, keys in enumerate(exclude):
            for k in keys:
                j = pos.get(k)
                if j is not None:
                    total[r, j] = -np.inf
    return np.stack([total, cf, sport, place, pop])


def top_per_kind(cat: Catalogue, scores: np.ndarray, r: int,
                 per_kind: dict[str, int] = PER_KIND) -> list[Scored]:
    """The best candidates of each kind for row ``r``, all kinds merged by score."""
    out: list[Scored] = []
    total = scores[0, r]
    for kind, k in per_kind.items():
        idx = np.flatnonzero((cat.kinds == kind) & np.isfinite(total))
        if not len(idx):
            continue
        best = idx[np.argsort(-total[idx], kind="stable")[:k]]
        out += [Scored(int(i), float(total[i]), float(scores[1, r, i]), float(scores[2, r, i]),
                       float(scores[3, r, i]), float(scores[4, r, i])) for i in best]
    out.sort(key=lambda s: -s.score)
    return out


# --- reasons ----------------------------------------------------------------------------------

def explain(snapshot: Snapshot, person: Person, habit: Habits | None, key: str,
            scored: Scored, *, personal: bool = True) -> tuple[str, dict[str, Any]]:
    """A reason code and its placeholders (plain values; explain.render translates), with
    ``used``: which of the resident's data the score rested on."""
    item = snapshot.items[key]
    used: list[str] = []
    if not personal:
        return "popular", {"place": snapshot.region_name(person.home_id), "used": ["region"]}
    if scored.cf > 0.05 and habit is not None:
        used += [*sorted({SOURCE_DATA[s] for s in habit.sources}), "similar_residents"]
    if scored.sport > 0:
        if habit is not None and habit.sports and any(s in habit.sports for s in item.sports):
            used.append("sports_done")
        if any(s in person.interests for s in item.sports):
            used.append("interests")
    if scored.place > 0:
        used.append("home_community")
    params: dict[str, Any] = {"used": list(dict.fromkeys(used))}
    if habit is not None and habit.habit is not None and item.kind == Kind.FACILITY:
        weekday, part, sport, town = habit.habit
        if (sport in item.sports or item.object_id in habit.facilities) and (
                town is None or snapshot.ancestors(item.region_id)[1] == town):
            params.update(weekday=weekday, daypart=part, sport=snapshot.sports.get(sport, "")
                          if sport else "", place=snapshot.region_name(town))
            params["used"] = list(dict.fromkeys([*params["used"], "usual_times", "visits"]))
            return "habit", params
    if scored.cf * W_CF >= max(scored.sport * W_SPORT, scored.place * W_PLACE) \
            and scored.cf > 0.05:
        return "similar", params
    liked = [s for s in item.sports if s in person.interests]
    if liked and scored.sport * W_SPORT >= scored.place * W_PLACE * 0.5:
        params["sport"] = snapshot.sports.get(liked[0], "")
        return "interest", params
    if scored.place > 0:
        params["place"] = snapshot.region_name(person.home_id)
        return "near_home", params
    params["place"] = snapshot.region_name(person.home_id)
    params["used"] = [*params["used"], "region"]
    return "popular", params


def free_slot_near(snapshot: Snapshot, facility_id: int,
                   habit: Habits | None) -> tuple[str, int] | None:
    """The next free slot at the facility within an hour of the resident's usual time that
    weekday (else none)."""
    slots = snapshot.free_slots.get(facility_id)
    if not slots or habit is None or not habit.times:
        return None
    usual = {w: h for (w, h), _n in reversed(habit.times.most_common(5))}
    for start, slot_id in slots:
        h = usual.get(start.weekday())
        if h is not None and abs(start.hour - h) <= 1:
            return start.isoformat(), slot_id
    return None
