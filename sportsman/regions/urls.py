from django.urls import path

from sportsman.regions import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("region/", views.switch_region, name="switch_region"),
    path("residents/", views.residents, name="residents"),
    path("audit/", views.audit_log, name="audit"),
]
