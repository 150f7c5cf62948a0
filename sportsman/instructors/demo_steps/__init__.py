"""Demo data for instructors, one module per area. Importing the package registers every step."""

from sportsman.instructors.demo_steps import registry, videos  # noqa: F401
