"""The instructors pages, residents' and the console's (one module per area in views/)."""

from sportsman.instructors.views import videos

app_name = "instructors"

urlpatterns: list = [*videos.urlpatterns]
