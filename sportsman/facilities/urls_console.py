"""The venue console (staff, scoped by FACILITY_MANAGE)."""

from sportsman.facilities.views import console

app_name = "venues"

urlpatterns = [*console.urlpatterns]
