"""The dashboards of the four levels."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
