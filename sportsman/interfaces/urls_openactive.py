"""OpenActive open data under /openactive/ (docs/openactive.md)."""

from sportsman.interfaces import views_openactive

app_name = "openactive"

urlpatterns = [*views_openactive.urlpatterns]
