"""Bring the OpenActive feeds in line with the records now (the scheduler does it every five
minutes): `manage.py openactive_sync [--kind slots ...]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sportsman.interfaces.feeds import sync
from sportsman.interfaces.models import FeedKind


class Command(BaseCommand):
    help = "Publish what changed in the OpenActive feeds."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kind", action="append", choices=FeedKind.values)

    def handle(self, *args: Any, **options: Any) -> None:
        result = sync(options["kind"])
        self.stdout.write(f"created {result.created}, updated {result.updated}, "
                          f"deleted {result.deleted}")
