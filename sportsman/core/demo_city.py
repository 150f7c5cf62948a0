"""The demo city generator: Jiaxing's first year, deterministic from a seed.

``generate(scale=..., seed=...)`` runs the generator steps in order inside one transaction. A
step is a function of the ``DemoCity`` context; it draws its randomness from
``city.rng("<step name>")``, a ``random.Random`` seeded from the seed and the step's name, so
adding a step never changes what the other steps produce.

Extension point for later issues: put a ``demo_steps.py`` module in your app and register a step
with ``@demo_step("facilities", order=40)``; it is discovered like ``admin.py``. Steps read what
earlier ones made from the context (``city.regions``, ``city.communities``, ``city.residents``)
and may leave their own results in ``city.made`` for later steps. Core steps: regions (10),
residents (20), staff (30). See docs/demo-data.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from tqdm import tqdm

from sportsman.core import crypto
from sportsman.core.demo import (
    DEMO_HOME_COMMUNITY,
    DEMO_PASSWORD,
    DEMO_STAFF,
    GENERATED_RESIDENT_FIRST_PHONE,
)

EDITION = 2023
REFERENCE_YEAR = 2023  # the demo is the platform's first year: ages are counted in 2023
SCALES = ("small", "jx", "province")
JX_COMMUNITIES = 85
JX_RESIDENTS = 48_958
SMALL_RESIDENTS = 300
PROVINCE_DEFAULT_SIZE = 200_000
BATCH = 2000
TZ = ZoneInfo("Asia/Shanghai")


def divisions_file() -> Any:
    return settings.BASE_DIR / "data" / "jiaxing_divisions_2023.csv"


# --- the context and the step registry -------------------------------------------------------

@dataclass
class DemoCity:
    scale: str
    seed: int
    size: int | None = None
    cities: int = 4
    progress: bool = True
    regions: dict[str, Any] = field(default_factory=dict)  # code → Region
    communities: list[Any] = field(default_factory=list)  # Region, by code
    residents: int = 0
    password_hash: str = ""
    made: dict[str, Any] = field(default_factory=dict)  # results later steps may read

    def rng(self, step: str) -> random.Random:
        return random.Random(f"sportsman-demo:{self.seed}:{step}")

    def bar(self, total: int, desc: str) -> tqdm:
        return tqdm(total=total, desc=desc, unit="row", disable=not self.progress,
                    dynamic_ncols=True, leave=False)


Step = Callable[[DemoCity], None]


@dataclass(frozen=True)
class StepEntry:
    order: int
    name: str
    run: Step


STEPS: list[StepEntry] = []


def demo_step(name: str, *, order: int) -> Callable[[Step], Step]:
    """Register a generator step (see the module docstring). Re-registering a name replaces it."""
    def register(fn: Step) -> Step:
        STEPS[:] = [s for s in STEPS if s.name != name]
        STEPS.append(StepEntry(order, name, fn))
        STEPS.sort(key=lambda s: (s.order, s.name))
        return fn
    return register


def is_loaded() -> bool:
    """Whether a demo city is already in the database (the demo resident exists)."""
    from sportsman.accounts.models import User

    return User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_STAFF[0][0])).exists()


def generate(*, scale: str, seed: int = 1, size: int | None = None, cities: int = 4,
             progress: bool = True) -> DemoCity:
    """Build the demo city for ``scale`` in one transaction and return the context.

    Deterministic: the same scale, seed and size give the same data (see ``fingerprint``).
    The caller checks ``is_loaded()`` first; generating over a loaded demo city fails on the
    unique phone numbers and rolls back.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")
    autodiscover_modules("demo_steps")
    city = DemoCity(scale=scale, seed=seed, size=size, cities=cities, progress=progress)
    with transaction.atomic():
        for entry in list(STEPS):
            entry.run(city)
    return city


# --- step: regions ---------------------------------------------------------------------------

MANAGEMENT_ZONES = {
    "330402012": "嘉兴经济技术开发区",  # 城南街道
    "330402014": "嘉兴经济技术开发区",  # 长水街道
    "330411003": "嘉兴经济技术开发区",  # 嘉北街道
    "330411004": "嘉兴经济技术开发区",  # 塘汇街道
    "330482101": "嘉兴港区",  # 乍浦镇
    "330402015": "湘家荡度假区",  # 七星街道
    "330402013": "南湖新区",  # 东栅街道
}
# 城乡分类 of the five real communities (DOMAIN.md §1.3).
REAL_URBAN_RURAL = {"330482101025": "121"}
SMALL_TOWNS = ("330402009", "330402013", "330411104")  # 新嘉街道, 东栅街道 (南湖区); 新塍镇 (秀洲区)
SMALL_EXTRA = {"330402009": 1, "330402013": 1, "330411104": 1}

PLACE_CHARS = ("东西南北新华兴安和平康宁福顺祥瑞春秋梅兰竹桃李杨柳湖河江桥港塘湾浜泾园林山石金"
               "玉凤龙鹤云月星阳光明丰盛嘉禾秀水城庄坊乐民泰昌永长文德育才景苑溪荷莲翠青锦"
               "绿芳华振荣联合群力胜利红旗曙晨晓虹霞环城中心")

OTHER_CITIES = [("3301", "杭州市"), ("3302", "宁波市"), ("3303", "温州市"), ("3305", "湖州市"),
                ("3306", "绍兴市"), ("3307", "金华市"), ("3308", "衢州市"), ("3309", "舟山市"),
                ("3310", "台州市"), ("3311", "丽水市")]


def _real_rows() -> list[dict[str, str]]:
    with divisions_file().open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _place_name(rng: random.Random, suffix: str, taken: set[str]) -> str:
    while True:
        name = rng.choice(PLACE_CHARS) + rng.choice(PLACE_CHARS) + suffix
        if name not in taken and name[0] != name[1]:
            taken.add(name)
            return name


def _community_row(rng: random.Random, town_code9: str, town_kind: str, *, first: bool,
                   taken_codes: set[str], taken_names: set[str], zone: str) -> dict[str, Any]:
    """One synthetic community or village of a town, inside the legal code ranges."""
    if town_kind == "街道":
        kind, urban_rural = "社区", rng.choices(["111", "112"], [0.85, 0.15])[0]
    elif town_kind == "镇":
        kind, urban_rural = (("社区", "121") if first and rng.random() < 0.6
                             else ("村", rng.choices(["220", "122"], [0.8, 0.2])[0]))
    else:
        kind, urban_rural = "村", rng.choice(["210", "220"])
    low, high = (1, 199) if kind == "社区" else (200, 399)
    while True:
        code = f"{town_code9}{rng.randint(low, high):03d}"
        if code not in taken_codes:
            taken_codes.add(code)
            break
    return {"code12": code, "code": code, "name": _place_name(rng, kind, taken_names),
            "level": "community", "parent_code": town_code9, "town_kind_or_note": kind,
            "urban_rural_class": urban_rural, "management_zone": zone, "is_synthetic": True}


def _jiaxing_rows(rng: random.Random, scale: str) -> list[dict[str, Any]]:
    real = _real_rows()
    towns = [r for r in real if r["level"] == "town"]
    real_communities = [r for r in real if r["level"] in ("village", "community")]
    if scale == "small":
        districts = {t[:6] for t in SMALL_TOWNS}
        towns = [t for t in towns if t["code"] in SMALL_TOWNS]
        real_communities = [c for c in real_communities if c["code12"][:9] in SMALL_TOWNS]
        real = [r for r in real if r["level"] in ("province", "city")
                or (r["level"] == "county" and r["code"] in districts)]
    else:
        real = [r for r in real if r["level"] in ("province", "city", "county")]
    rows: list[dict[str, Any]] = [{**r, "is_synthetic": False} for r in real]
    for town in towns:
        rows.append({**town, "management_zone": MANAGEMENT_ZONES.get(town["code"], ""),
                     "is_synthetic": False})
    taken_codes = {c["code12"] for c in real_communities}
    taken_names = {c["name"] for c in real_communities}
    for community in real_communities:
        rows.append({**community, "is_synthetic": False,
                     "urban_rural_class": REAL_URBAN_RURAL.get(community["code12"], "111"),
                     "management_zone": MANAGEMENT_ZONES.get(community["code12"][:9], "")})
    # How many synthetic communities each town gets.
    has_real = {c["code12"][:9] for c in real_communities}
    extra: dict[str, int] = {}
    if scale == "small":
        extra = dict(SMALL_EXTRA)
    elif scale == "jx":
        for town in towns:
            extra[town["code"]] = 0 if town["code"] in has_real else 1
        missing = JX_COMMUNITIES - len(real_communities) - sum(extra.values())
        # The rest go to towns drawn at random, streets (urban, denser) three times as likely.
        weights = [3.0 if t["town_kind_or_note"] == "街道" else 1.0 for t in towns]
        chosen: set[str] = set()
        while len(chosen) < missing:
            chosen.add(rng.choices(towns, weights)[0]["code"])
        for code in chosen:
            extra[code] += 1
    else:  # province: a full Jiaxing, 6–14 communities per town
        for town in towns:
            extra[town["code"]] = rng.randint(6, 14) - (1 if town["code"] in has_real else 0)
    for town in towns:
        for i in range(extra.get(town["code"], 0)):
            rows.append(_community_row(
                rng, town["code"], town["town_kind_or_note"],
                first=(i == 0 and town["code"] not in has_real), taken_codes=taken_codes,
                taken_names=taken_names, zone=MANAGEMENT_ZONES.get(town["code"], "")))
    return rows


def synthetic_city_rows(rng: random.Random, *, city_code: str, city_name: str,
                        province_code: str, districts: int, towns: int,
                        communities: int) -> list[dict[str, Any]]:
    """A synthetic city tree: ``districts`` × ``towns`` × ``communities``, legal codes."""
    if not (1 <= districts <= 99 and 1 <= towns <= 399 and 1 <= communities <= 200):
        raise ValueError("more units than the code ranges hold")
    rows: list[dict[str, Any]] = [
        {"code12": city_code.ljust(12, "0"), "code": city_code, "name": city_name,
         "level": "city", "parent_code": province_code, "is_synthetic": True}]
    names: set[str] = set()
    for d in range(1, districts + 1):
        district = f"{city_code}{d:02d}"
        rows.append({"code12": district.ljust(12, "0"), "code": district,
                     "name": _place_name(rng, "区", names), "level": "district",
                     "parent_code": city_code, "is_synthetic": True})
        town_names: set[str] = set()
        streets = min(99, max(1, towns // 3))
        for t in range(towns):
            if t < streets:
                part, kind = t + 1, "街道"  # 001–099
            elif t - streets < 100:
                part, kind = 100 + t - streets, "镇"  # 100–199
            else:
                part, kind = 100 + t - streets, "乡"  # 200–399
            town = f"{district}{part:03d}"
            rows.append({"code12": town.ljust(12, "0"), "code": town,
                         "name": _place_name(rng, kind, town_names), "level": "town",
                         "parent_code": district, "town_kind_or_note": kind,
                         "is_synthetic": True})
            community_names: set[str] = set()
            # Streets hold communities (社区, 001–199); towns mostly villages (村, 200–399).
            urban = min(199, communities if kind == "街道" else max(1, communities // 4))
            for c in range(communities):
                own, kind_c = (c + 1, "社区") if c < urban else (200 + c - urban, "村")
                code = f"{town}{own:03d}"
                rows.append({"code12": code, "code": code,
                             "name": _place_name(rng, kind_c, community_names),
                             "level": "community", "parent_code": town,
                             "town_kind_or_note": kind_c,
                             "urban_rural_class": ("111" if kind == "街道" else "121")
                             if kind_c == "社区" else "220",
                             "is_synthetic": True})
    return rows


def region_rows(city: DemoCity) -> list[dict[str, Any]]:
    """The division rows of the scale (real Jiaxing rows first, then synthetic ones)."""
    rng = city.rng("regions")
    rows = _jiaxing_rows(rng, city.scale)
    if city.scale == "province":
        for code, name in OTHER_CITIES[:max(0, city.cities - 1)]:
            rows += synthetic_city_rows(rng, city_code=code, city_name=name, province_code="33",
                                        districts=rng.randint(5, 9), towns=rng.randint(8, 12),
                                        communities=rng.randint(6, 12))
    return rows


@demo_step("regions", order=10)
def step_regions(city: DemoCity) -> None:
    from sportsman.regions.models import Level, Region
    from sportsman.regions.services import bulk_load_tree

    rows = region_rows(city)
    bulk_load_tree(rows, edition=EDITION)
    codes = [r["code12"] for r in rows]
    by_code: dict[str, Any] = {}
    for start in range(0, len(codes), 900):
        for region in Region.objects.filter(edition=EDITION, code__in=codes[start:start + 900]):
            by_code[region.code] = region
    city.regions = by_code
    city.communities = sorted((r for r in by_code.values() if r.level == Level.COMMUNITY),
                              key=lambda r: r.code)


# --- step: residents -------------------------------------------------------------------------

# (youngest, oldest, share) of registered residents; older people are over-represented among
# community sports users, teenagers register with a parent's consent.
AGE_BANDS = [(14, 19, 0.04), (20, 29, 0.11), (30, 39, 0.16), (40, 49, 0.18), (50, 59, 0.20),
             (60, 69, 0.19), (70, 79, 0.10), (80, 90, 0.02)]
POPULARITY = {
    "walking": 1.0, "square-dance": 0.85, "running": 0.7, "badminton": 0.7, "table-tennis": 0.6,
    "taichi": 0.55, "basketball": 0.5, "swimming": 0.5, "cycling": 0.45, "yoga": 0.4,
    "aerobics": 0.4, "hiking": 0.35, "fishing": 0.35, "xiangqi": 0.3, "guandan": 0.35,
    "football": 0.3, "gateball": 0.25, "qigong": 0.3, "line-dance": 0.3, "rope-skipping": 0.25,
}
URBAN_RURAL_WEIGHT = {"111": 1.4, "112": 1.2, "121": 1.0, "122": 0.9, "123": 0.8, "210": 0.8,
                      "220": 0.7}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡沈钱朱金陆褚蒋姚"
YOUNG_NICKS = ("小{s}", "{s}同学", "跑者{s}{n}", "{s}{n}号", "爱运动的{s}")
OLD_NICKS = ("老{s}", "{s}阿姨", "{s}师傅", "{s}大伯", "{s}奶奶")


def _interest_weights(sports: Sequence[Any], *, older: bool, young: bool,
                      female: bool) -> list[float]:
    weights = []
    for sport in sports:
        w = POPULARITY.get(sport.slug, 0.2)
        if sport.skews_older:
            w *= 3.0 if older else (0.25 if young else 1.0)
        elif older:
            w *= 0.6
        if sport.family == "dance":
            w *= 1.8 if female else 0.4
        elif sport.slug in ("football", "basketball", "basketball-3x3"):
            w *= 0.35 if female else 1.5
        weights.append(w)
    return weights


def _pick_interests(rng: random.Random, weights: list[float], k: int) -> list[int]:
    """k indices without replacement, by weight (Efraimidis–Spirakis keys)."""
    keys = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0]
    return [i for _, i in sorted(keys, reverse=True)[:k]]


def resident_count(city: DemoCity) -> int:
    if city.scale == "small":
        return SMALL_RESIDENTS
    if city.scale == "jx":
        return JX_RESIDENTS
    return city.size or PROVINCE_DEFAULT_SIZE


def _residents(city: DemoCity, sports: Sequence[Any]) -> Iterator[tuple[dict[str, Any], list[int]]]:
    """The generated residents in phone order: (user fields, interest sport indices)."""
    rng = city.rng("residents")
    communities = city.communities
    weights = [URBAN_RURAL_WEIGHT.get(c.urban_rural_class, 1.0) * rng.uniform(0.6, 1.4)
               for c in communities]
    cum: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    bands = [b[:2] for b in AGE_BANDS]
    band_weights = [b[2] for b in AGE_BANDS]
    weight_sets = {(o, y, f): _interest_weights(sports, older=o, young=y, female=f)
                   for o in (False, True) for y in (False, True) for f in (False, True)}
    start = dt.datetime(REFERENCE_YEAR, 1, 1, 8, tzinfo=TZ)
    for i in range(resident_count(city)):
        low, high = rng.choices(bands, band_weights)[0]
        age = rng.randint(low, high)
        female = rng.random() < (0.56 if age >= 50 else 0.5)
        older, young = age >= 55, age < 40
        surname = rng.choice(SURNAMES)
        pattern = rng.choice(OLD_NICKS if older else YOUNG_NICKS)
        nickname = pattern.format(s=surname, n=rng.randint(1, 99))
        k = rng.choices((0, 1, 2, 3, 4), (0.08, 0.3, 0.32, 0.2, 0.1))[0]
        picks = _pick_interests(rng, weight_sets[(older, young, female)], k) if sports else []
        joined = start + dt.timedelta(seconds=rng.randrange(365 * 24 * 3600))
        home = communities[rng.choices(range(len(communities)), cum_weights=cum)[0]]
        yield ({"phone": str(GENERATED_RESIDENT_FIRST_PHONE + i), "nickname": nickname,
                "sex": "F" if female else "M", "birth_year": REFERENCE_YEAR - age,
                "home_community_id": home.pk, "date_joined": joined,
                "hide_from_rankings": rng.random() < 0.06,
                "large_text": age >= 65 and rng.random() < 0.35}, picks)


def _password_hash(city: DemoCity) -> str:
    # Hashed once: Argon2 on every row would take most of an hour at jx scale.
    if not city.password_hash:
        city.password_hash = make_password(DEMO_PASSWORD)
    return city.password_hash


@demo_step("residents", order=20)
def step_residents(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core.models import Sport

    sports = list(Sport.objects.order_by("slug"))
    through = User.interests.through
    password = _password_hash(city)
    total = resident_count(city)
    with city.bar(total, "residents") as bar:
        users: list[User] = []
        picks: list[list[int]] = []

        def flush() -> None:
            User.objects.bulk_create(users, batch_size=BATCH)
            links = [through(user_id=u.pk, sport_id=sports[j].pk)
                     for u, chosen in zip(users, picks, strict=True) for j in chosen]
            through.objects.bulk_create(links, batch_size=BATCH * 4)
            bar.update(len(users))
            users.clear()
            picks.clear()

        for fields_, chosen in _residents(city, sports):
            phone = fields_.pop("phone")
            users.append(User(password=password, phone_hash=crypto.keyed_hash(phone),
                              phone_encrypted=crypto.encrypt(phone), **fields_))
            picks.append(chosen)
            if len(users) >= BATCH:
                flush()
        if users:
            flush()
    city.residents = total


# --- step: staff -----------------------------------------------------------------------------

@demo_step("staff", order=30)
def step_staff(city: DemoCity) -> None:
    """The demo logins (core.demo.DEMO_STAFF) with their roles, all with the demo password."""
    from sportsman.accounts.models import User
    from sportsman.regions.models import RoleAssignment

    rng = city.rng("staff")
    password = _password_hash(city)
    for phone, nickname, role, region_code, home_code in DEMO_STAFF:
        home = city.regions.get(home_code) or city.regions[DEMO_HOME_COMMUNITY]
        user = User(password=password, nickname=nickname, home_community=home,
                    sex=rng.choice("FM"), birth_year=rng.randint(1965, 1998),
                    date_joined=dt.datetime(REFERENCE_YEAR, 1, 1, 9, tzinfo=TZ))
        user.set_phone(phone)
        user.save()
        if role is not None and region_code is not None:
            RoleAssignment.objects.create(user=user, role=role, region=city.regions[region_code])


# --- a fingerprint of the generated data (determinism checks) -------------------------------

def fingerprint() -> str:
    """A digest of the demo data that ignores database ids and the encryption key."""
    from sportsman.accounts.models import User
    from sportsman.regions.access import access_for_user
    from sportsman.regions.models import Region

    digest = hashlib.sha256()
    for region in (Region.objects.order_by("code", "edition")
                   .values_list("code", "edition", "name", "level", "parent__code", "kind_note",
                                "urban_rural_class", "management_zone", "is_synthetic")):
        digest.update(repr(region).encode())
    interests: dict[int, list[str]] = {}
    for user_id, slug in User.interests.through.objects.values_list("user_id", "sport__slug"):
        interests.setdefault(user_id, []).append(slug)
    users = []
    for u in User.objects.select_related("home_community"):
        users.append((u.phone, u.nickname, u.sex, u.birth_year,
                      u.home_community.code if u.home_community else None,
                      u.hide_from_rankings, u.large_text, u.date_joined.isoformat(),
                      sorted(interests.get(u.pk, []))))
    for user in sorted(users):
        digest.update(repr(user).encode())
    # Roles through the access module (the one reader of role assignments); only demo staff
    # hold roles.
    roles = []
    for phone, *_ in DEMO_STAFF:
        staff = User.objects.filter(phone_hash=crypto.keyed_hash(phone)).first()
        if staff is not None:
            roles += [(phone, g.role, g.region_code) for g in access_for_user(staff).grants]
    digest.update(repr(sorted(roles)).encode())
    return digest.hexdigest()
