"""Make a VAPID key pair for web push (or show the public key of the configured one)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.env import vapid_private_key
from sportsman.notifications import backends


class Command(BaseCommand):
    help = ("Print a new VAPID key pair for web push: put the private key in "
            "WEBPUSH_VAPID_PRIVATE_KEY (every server the same). With --show, print the public "
            "key of the configured private key instead. Changing the key invalidates every "
            "browser's subscription (push services refuse them with 403 or 410).")

    def add_arguments(self, parser):
        parser.add_argument("--show", action="store_true",
                            help="the public key of WEBPUSH_VAPID_PRIVATE_KEY")

    def handle(self, *args, **options):
        if options["show"]:
            self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={backends.vapid_public_key()}")
            return
        private = vapid_private_key()
        public = backends.public_key_of(private)
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}")
        self.stderr.write("Keep the private key secret; the public key is served to pages.")
