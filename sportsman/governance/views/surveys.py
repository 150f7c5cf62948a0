"""Pages of the governance area `surveys`."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
