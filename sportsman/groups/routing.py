"""The groups' websocket routes (gathered by config/routing.py)."""

from __future__ import annotations

from django.urls import path

from sportsman.groups.sockets import ChatConsumer

websocket_urlpatterns = [
    path("ws/groups/<int:group_id>/chat/", ChatConsumer.as_asgi(), name="group-chat"),
]
