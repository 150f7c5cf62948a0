"""My data, rankings and the yearly report (pages)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
