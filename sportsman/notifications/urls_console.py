"""The console's campaign pages (under /console/campaigns/)."""

from sportsman.notifications import views_campaigns

app_name = "campaigns"

urlpatterns = [*views_campaigns.urlpatterns]
