"""The guard: every URL and every API operation is either region-scoped, the actor's own data, or
deliberately public. A new view without a mark fails here, before it can leak another region's
data."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from config.api import api
from sportsman.regions.access import PERMISSIONS, mark_of

# Ninja's own pages: the OpenAPI document, its docs page and the API root.
NINJA_BUILTIN_NAMES = {"openapi-json", "openapi-view", "api-root"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _is_api(pattern: URLPattern) -> bool:
    return getattr(pattern.callback, "__module__", "").startswith("ninja")


def api_operations():
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for op in path_view.operations:
                yield f"{bound.prefix}{path}", op


def test_every_api_operation_is_marked():
    unmarked = [f"{'/'.join(op.methods)} /api/v1/{path.lstrip('/')} ({op.view_func.__module__}."
                f"{op.view_func.__name__})"
                for path, op in api_operations() if mark_of(op.view_func) is None]
    assert not unmarked, "API operations with no access mark:\n" + "\n".join(unmarked)


def test_public_api_operations_need_no_auth_and_others_do():
    for path, op in api_operations():
        kind, _perm = mark_of(op.view_func)
        if kind == "public":
            continue
        assert op.auth_callbacks, f"{path} is {kind} but accepts anonymous calls"


def test_every_page_url_is_marked():
    unmarked = []
    for route, pattern in _walk(get_resolver().url_patterns):
        callback = pattern.callback
        if pattern.name in NINJA_BUILTIN_NAMES or _is_api(pattern):
            continue  # the OpenAPI document is public; API paths are checked above
        if mark_of(callback) is None:
            unmarked.append(f"/{route} ({callback.__module__}.{callback.__name__})")
    assert not unmarked, "URLs with no access mark:\n" + "\n".join(unmarked)


def test_every_scoped_mark_names_a_known_permission():
    marks = [mark_of(op.view_func) for _, op in api_operations()]
    marks += [mark_of(p.callback) for _, p in _walk(get_resolver().url_patterns)
              if p.name not in NINJA_BUILTIN_NAMES and not _is_api(p)]
    for mark in marks:
        if mark and mark[0] == "scoped":
            assert mark[1] in PERMISSIONS


def test_the_guard_sees_a_missing_mark():
    from ninja import NinjaAPI, Router

    router = Router()

    @router.get("/leak")
    def leak(request):
        return {}

    local = NinjaAPI(urls_namespace="guard-probe")
    local.add_router("/", router)
    ops = [op for b in local._get_bound_routers() for pv in b.path_operations.values()
           for op in pv.operations]
    assert ops and all(mark_of(op.view_func) is None for op in ops)
