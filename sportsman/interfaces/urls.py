"""The console pages of the open interfaces (under /console/interfaces/)."""

from sportsman.interfaces import views, views_exchange

app_name = "interfaces"

urlpatterns = [*views.urlpatterns, *views_exchange.urlpatterns]
