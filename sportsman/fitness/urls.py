"""Resident fitness pages (under /fitness/)."""

from sportsman.fitness import views

app_name = "fitness"

urlpatterns = [*views.resident_urlpatterns]
