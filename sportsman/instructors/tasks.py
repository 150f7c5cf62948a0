"""The instructors app's periodic jobs, one module per area (importing registers them)."""

from sportsman.instructors import video_tasks  # noqa: F401
