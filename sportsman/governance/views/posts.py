"""Pages of the governance area `posts`."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
