"""Console fitness pages (under /console/fitness/)."""

from sportsman.fitness import views

app_name = "fitness_console"

urlpatterns = [*views.console_urlpatterns]
