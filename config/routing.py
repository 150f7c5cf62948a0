"""Websocket routes, gathered from the apps."""

from __future__ import annotations

from django.urls import URLPattern

from sportsman.groups.routing import websocket_urlpatterns as groups_routes

websocket_urlpatterns: list[URLPattern] = [*groups_routes]
