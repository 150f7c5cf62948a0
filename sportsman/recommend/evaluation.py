"""Offline evaluation, leave-last-out: for each resident with at least two distinct items, the
last item they came to for the first time is held out, the model is trained on everything
else, and each method ranks every candidate the resident has not interacted with in training.
recall@k is the share of residents whose held-out item is in the top k; NDCG@k with one
relevant item is 1 / log2(rank + 1) inside the top k. Methods, in the same run: the
recommender (ALS + blend, as served), popularity (distinct residents per item in training),
popularity near home (the non-personal suggestions) and random."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from typing import Any

import numpy as np

from sportsman.recommend import engine
from sportsman.recommend.snapshot import Interaction, Snapshot


def split(interactions: list[Interaction], candidates: set[str], *, max_users: int | None,
          seed: int = 1) -> tuple[list[Interaction], dict[int, str]]:
    by_user: dict[int, list[Interaction]] = defaultdict(list)
    for it in interactions:
        if it.item in candidates:
            by_user[it.user_id].append(it)
    held: dict[int, str] = {}
    for uid, rows in by_user.items():
        rows.sort(key=lambda it: (it.at, it.item))
        first: dict[str, Any] = {}
        for it in rows:
            first.setdefault(it.item, it.at)
        if len(first) >= 2:
            held[uid] = max(first, key=lambda k: (first[k], k))
    if max_users is not None and len(held) > max_users:
        rng = random.Random(seed)
        held = {u: held[u] for u in sorted(rng.sample(sorted(held), max_users))}
    train = [it for uid, rows in by_user.items() for it in rows if held.get(uid) != it.item]
    return train, held


def _metrics(ranks: list[int | None], k: int) -> dict[str, float]:
    n = len(ranks) or 1
    recall = sum(1 for r in ranks if r is not None and r <= k) / n
    ndcg = sum(1 / math.log2(r + 1) for r in ranks if r is not None and r <= k) / n
    return {"recall_at_10" if k == 10 else f"recall_at_{k}": round(recall, 4),
            "ndcg_at_10" if k == 10 else f"ndcg_at_{k}": round(ndcg, 4)}


def _rank(scores: np.ndarray, target: int) -> int | None:
    if not np.isfinite(scores[target]):
        return None
    return int((scores > scores[target]).sum()) + 1


def evaluate(snapshot: Snapshot, *, k: int = 10, max_users: int | None = 5000,
             batch: int = 500, seed: int = 1) -> dict[str, Any]:
    started = time.perf_counter()
    candidates = set(snapshot.items)
    train, held = split(snapshot.interactions, candidates, max_users=max_users, seed=seed)
    trained = engine.train(train)
    train_seconds = time.perf_counter() - started
    cat = engine.catalogue(snapshot, trained)
    pos = {key: i for i, key in enumerate(cat.keys)}
    seen: dict[int, set[str]] = defaultdict(set)
    for it in train:
        seen[it.user_id].add(it.item)
    habits = engine.habits_of(snapshot, train)
    counts = np.array([trained.popularity.get(key, 0) for key in cat.keys], np.float32)
    rng = np.random.default_rng(seed)
    zero = np.zeros(trained.item_factors.shape[1], np.float32)
    out: dict[str, list[int | None]] = {"recommender": [], "popularity": [],
                                        "popular_near_home": [], "random": []}
    users = [u for u in held if u in snapshot.people]
    for start in range(0, len(users), batch):
        ids = users[start:start + batch]
        people = [snapshot.people[u] for u in ids]
        exclude = [seen[u] for u in ids]
        vectors = np.stack([trained.user_factors.get(u, zero) for u in ids])
        mine = engine.score_batch(snapshot, cat, people, vectors, habits, exclude=exclude)[0]
        near = engine.score_batch(snapshot, cat, people, vectors, {}, exclude=exclude,
                                  personal=False)[0]
        for r, uid in enumerate(ids):
            target = pos[held[uid]]
            mask = np.zeros(len(cat.keys), bool)
            mask[[pos[key] for key in exclude[r] if key in pos]] = True
            pop = np.where(mask, -np.inf, counts)
            noise = np.where(mask, -np.inf, rng.random(len(cat.keys)))
            out["recommender"].append(_rank(mine[r], target))
            out["popularity"].append(_rank(pop + rng.random(len(cat.keys)) * 1e-3, target))
            out["popular_near_home"].append(_rank(near[r], target))
            out["random"].append(_rank(noise, target))
    figures: dict[str, Any] = {name: _metrics(ranks, k) for name, ranks in out.items()}
    base = figures["popularity"]["ndcg_at_10"]
    figures.update({
        "residents_evaluated": len(users), "candidates": len(cat.keys),
        "train_interactions": len(train), "train_seconds": round(train_seconds, 2),
        "seconds": round(time.perf_counter() - started, 2),
        "recall_ratio_to_popularity": round(figures["recommender"]["recall_at_10"]
                                            / figures["popularity"]["recall_at_10"], 3)
        if figures["popularity"]["recall_at_10"] else None,
        "ndcg_ratio_to_popularity": round(figures["recommender"]["ndcg_at_10"] / base, 3)
        if base else None,
    })
    return figures
