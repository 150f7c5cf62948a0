"""The instructors pages, residents' and the console's (one module per area in views/)."""

from sportsman.instructors.views import console, pages, videos

app_name = "instructors"

urlpatterns = [*videos.urlpatterns, *console.urlpatterns, *pages.urlpatterns]
