from django.urls import include, path, re_path
from django.views.i18n import set_language

from config.api import api, unknown_path
from sportsman.regions.access import public

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_path),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("accounts/", include("sportsman.accounts.urls")),
    path("notifications/", include("sportsman.notifications.urls")),
    path("console/facilities/", include("sportsman.facilities.urls_console")),
    path("console/", include("sportsman.regions.urls")),
    path("", include("sportsman.facilities.urls")),
    path("activity/", include("sportsman.activity.urls")),
    path("rewards/", include("sportsman.rewards.urls")),
    path("groups/", include("sportsman.groups.urls")),
    path("events/", include("sportsman.events.urls")),
    path("governance/", include("sportsman.governance.urls")),
    path("open311/v2/", include("sportsman.governance.open311")),
    path("associations/", include("sportsman.associations.urls")),
    path("instructors/", include("sportsman.instructors.urls")),
    path("cockpit/", include("sportsman.cockpit.urls")),
    path("for-you/", include("sportsman.recommend.urls")),
    path("console/interfaces/", include("sportsman.interfaces.urls")),
    path("openactive/", include("sportsman.interfaces.urls_openactive")),
    path("", include("sportsman.core.urls")),
]
