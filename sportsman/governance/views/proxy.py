"""Pages of acting for others (代办)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
