"""The parts of the scope matrix (see test_scope_matrix.py) that apps' own case modules use.

An app adds cases in ``sportsman/<app>/tests/scope_cases*.py`` as a module-level ``CASES`` list;
the matrix collects them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ACTORS = ["right", "parent", "child", "sibling", "resident", "anonymous"]

# Who plays each part, by the level at which the permission is naturally held.
TOWN_LEVEL = {"right": "town_admin", "parent": "district_admin", "child": "community_admin",
              "sibling": "sibling_town_admin", "resident": "resident", "anonymous": None}
CITY_LEVEL = {"right": "city_admin", "parent": "city_admin", "child": "district_admin",
              "sibling": "other_city_admin", "resident": "resident", "anonymous": None}


@dataclass
class Case:
    name: str
    op: str  # "METHOD /path" of the operation, as in the OpenAPI document (under /api/v1)
    call: Callable  # (client, tree, state) -> response
    sees: Callable | None = None  # (response, tree, state) -> bool, for reads
    changed: Callable | None = None  # (tree, state) -> bool, for writes
    setup: Callable | None = None  # (tree) -> state
    allowed: set[str] = field(default_factory=lambda: {"right", "parent"})
    cast: dict = field(default_factory=lambda: TOWN_LEVEL)
    midday: bool = False  # run at 12:00 of today (the ``midday`` fixture)


def ids(response) -> set:
    body = response.json()
    rows = body.get("items", body) if isinstance(body, dict) else body
    return {row["id"] for row in rows}




def xlsx_text(response) -> bytes:
    """The XML text of an xlsx answer's sheets: enough to look for a value in an export."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        return b"".join(book.read(n) for n in book.namelist() if n.startswith("xl/"))
