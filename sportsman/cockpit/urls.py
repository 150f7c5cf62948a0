"""Cockpit pages (staff): dashboards per level, assessments, supervision tasks, demand."""

from sportsman.cockpit.views import dashboard

app_name = "cockpit"

urlpatterns = [*dashboard.urlpatterns]
