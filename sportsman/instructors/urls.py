"""The instructors pages, residents' and the console's (one module per area in views/)."""

from sportsman.instructors.views import console, pages

app_name = "instructors"

urlpatterns = [*console.urlpatterns, *pages.urlpatterns]
