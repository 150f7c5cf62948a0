"""Groups pages."""

from django.urls import URLPattern

app_name = "groups"

urlpatterns: list[URLPattern] = []
