from django.urls import path

from sportsman.notifications import views, views_campaigns

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.mark_read, name="mark_read"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences, name="preferences"),
    path("campaigns/<int:campaign_id>/open/", views_campaigns.click, name="campaign_click"),
]
