"""The console pages of the open interfaces (under /console/interfaces/)."""

from sportsman.interfaces import views

app_name = "interfaces"

urlpatterns = [*views.urlpatterns]
