"""Events pages (resident and staff console)."""

from sportsman.events.views import console, public

app_name = "events"

urlpatterns = [*public.urlpatterns, *console.urlpatterns]
