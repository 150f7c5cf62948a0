"""Pages of the governance area `volunteering`."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
