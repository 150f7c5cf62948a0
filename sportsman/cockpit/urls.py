"""Cockpit pages (staff): dashboards per level, assessments, supervision tasks, demand."""

from sportsman.cockpit.views import assessment, dashboard, demand, report, supervision

app_name = "cockpit"

urlpatterns = [*dashboard.urlpatterns, *supervision.urlpatterns, *report.urlpatterns,
               *assessment.urlpatterns, *demand.urlpatterns]
