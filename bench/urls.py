"""The platform's URLs plus ``GET /bench/bare``: the denominator of the HTTP ratios.

The bare endpoint is a Ninja JSON operation with no database access, served through the same
middleware, server and worker set-up as every other page; what a real endpoint adds on top of it
is the endpoint's own cost.
"""

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI

from config.urls import urlpatterns as platform_urlpatterns
from sportsman.regions.access import public

bench_api = NinjaAPI(title="bench", version="bench", urls_namespace="bench", docs_url=None,
                     openapi_url=None, auth=None)


@bench_api.get("/bare")
@public
def bare(request: HttpRequest) -> dict:
    return {"ok": True}


urlpatterns = [path("bench/", bench_api.urls), *platform_urlpatterns]
