"""Group pages: residents' (finding, a group's space, chat and activities, star groups) and the
staff console's section."""

from sportsman.groups.views import console, resident

app_name = "groups"

urlpatterns = [*console.urlpatterns, *resident.urlpatterns]
