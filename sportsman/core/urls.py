from django.urls import path

from sportsman.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
