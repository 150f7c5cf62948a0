from django.urls import path

from sportsman.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("display/large-text", views.toggle_large_text, name="large_text"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("media/<path:path_>", views.media, name="media"),
]
