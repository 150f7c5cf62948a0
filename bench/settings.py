"""The platform's settings plus the bench-only bare endpoint (bench/urls.py).

Selected only by the benchmark, through ``DJANGO_SETTINGS_MODULE=bench.settings``: the
platform's own settings never mount the endpoint and never branch on the environment.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
