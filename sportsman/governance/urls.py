"""Governance pages: reports (报事反馈), deliberation (在线议事), surveys (问卷调查), my posts
(我的发布), volunteering (志愿服务) and acting for others (代办), residents' and the console's."""

from sportsman.governance.views import (
    deliberation,
    hub,
    posts,
    proxy,
    reports,
    surveys,
    volunteering,
)

app_name = "governance"

urlpatterns = [*hub.urlpatterns, *reports.urlpatterns, *deliberation.urlpatterns, *surveys.urlpatterns,
               *posts.urlpatterns, *volunteering.urlpatterns, *proxy.urlpatterns]
